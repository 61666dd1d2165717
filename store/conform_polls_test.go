package store_test

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformancePolls runs the suite's tests of polls on a bbolt file.
func TestConformancePolls(t *testing.T) {
	conform.RunPolls(t, func(t *testing.T) conform.PollsBackend { return openBboltBackend(t) })
}
