package postgres

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceActivity runs the suite's tests of activity on PostgreSQL.
func TestConformanceActivity(t *testing.T) {
	conform.RunActivity(t, func(t *testing.T) conform.ActivityBackend { return openConform(t) })
}
