package postgres

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceOutboxMore runs the suite's tests of the rest of the outbox on
// PostgreSQL.
func TestConformanceOutboxMore(t *testing.T) {
	conform.RunOutboxMore(t, func(t *testing.T) conform.OutboxMoreBackend { return openConform(t) })
}
