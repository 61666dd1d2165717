package postgres

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceMedia runs the suite's tests of the platforms' references
// to uploaded files on PostgreSQL.
func TestConformanceMedia(t *testing.T) {
	conform.RunMedia(t, func(t *testing.T) conform.MediaBackend { return openPGBackend(t) })
}
