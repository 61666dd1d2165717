package postgres

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceWatchers runs the suite's tests of watchers on PostgreSQL.
func TestConformanceWatchers(t *testing.T) {
	conform.RunWatchers(t, func(t *testing.T) conform.WatchersBackend { return openConform(t) })
}
