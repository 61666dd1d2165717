package store_test

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceLink runs the suite's tests of merging contacts on a
// bbolt file.
func TestConformanceLink(t *testing.T) {
	conform.RunLink(t, func(t *testing.T) conform.LinkBackend { return openClocked(t) })
}
