package store_test

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceActivity runs the suite's tests of activity on a bbolt file.
func TestConformanceActivity(t *testing.T) {
	conform.RunActivity(t, func(t *testing.T) conform.ActivityBackend { return openClocked(t) })
}
