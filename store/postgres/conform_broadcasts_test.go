package postgres

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceBroadcasts runs the suite's tests of broadcasts on PostgreSQL.
func TestConformanceBroadcasts(t *testing.T) {
	conform.RunBroadcasts(t, func(t *testing.T) conform.BroadcastsBackend { return openConform(t) })
}
