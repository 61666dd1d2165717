package store_test

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformancePause runs the suite's tests of pause on a bbolt file.
func TestConformancePause(t *testing.T) {
	conform.RunPause(t, func(t *testing.T) conform.PauseBackend { return openClocked(t) })
}
