package postgres

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceLink runs the suite's tests of merging contacts on
// PostgreSQL.
func TestConformanceLink(t *testing.T) {
	conform.RunLink(t, func(t *testing.T) conform.LinkBackend { return openConform(t) })
}
