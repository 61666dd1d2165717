package store_test

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceForget runs the suite's tests of forgetting a person on a
// bbolt file.
func TestConformanceForget(t *testing.T) {
	conform.RunForget(t, func(t *testing.T) conform.ForgetBackend { return openClocked(t) })
}
