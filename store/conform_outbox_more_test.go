package store_test

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceOutboxMore runs the suite's tests of the rest of the outbox on a
// bbolt file.
func TestConformanceOutboxMore(t *testing.T) {
	conform.RunOutboxMore(t, func(t *testing.T) conform.OutboxMoreBackend { return openClocked(t) })
}
