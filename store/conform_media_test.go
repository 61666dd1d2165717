package store_test

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceMedia runs the suite's tests of the platforms' references
// to uploaded files on a bbolt file.
func TestConformanceMedia(t *testing.T) {
	conform.RunMedia(t, func(t *testing.T) conform.MediaBackend { return openBboltBackend(t) })
}
