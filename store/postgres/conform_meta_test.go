package postgres

import (
	"testing"
	"time"

	"mobilise/store/storetest/conform"
)

// TestConformanceMeta runs the suite's tests of the Telegram offset and of
// handled updates on PostgreSQL.
func TestConformanceMeta(t *testing.T) {
	conform.RunMeta(t, func(t *testing.T) conform.MetaBackend { return openConform(t) })
}

// openConform opens a backend on a database of its own, as
// TestConformance does.
func openConform(t *testing.T) *pgBackend {
	b := &pgBackend{clock: &clock{now: time.Now().UTC()}}
	b.Store, b.url = openTest(t, WithNow(b.clock.read))
	t.Cleanup(func() { b.Close() })
	return b
}
