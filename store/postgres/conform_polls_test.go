package postgres

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformancePolls runs the suite's tests of polls on PostgreSQL.
func TestConformancePolls(t *testing.T) {
	conform.RunPolls(t, func(t *testing.T) conform.PollsBackend { return openPGBackend(t) })
}
