package store_test

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceWatchers runs the suite's tests of watchers on a bbolt file.
func TestConformanceWatchers(t *testing.T) {
	conform.RunWatchers(t, func(t *testing.T) conform.WatchersBackend { return openClocked(t) })
}
