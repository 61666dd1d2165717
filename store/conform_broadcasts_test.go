package store_test

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceBroadcasts runs the suite's tests of broadcasts on a bbolt file.
func TestConformanceBroadcasts(t *testing.T) {
	conform.RunBroadcasts(t, func(t *testing.T) conform.BroadcastsBackend { return openClocked(t) })
}
