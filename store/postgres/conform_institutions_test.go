package postgres

import (
	"testing"
	"time"

	"mobilise/store/storetest/conform"
)

// TestConformanceInstitutions runs the suite's tests of institutions and
// their supporters on PostgreSQL.
func TestConformanceInstitutions(t *testing.T) {
	conform.RunInstitutions(t, func(t *testing.T) conform.InstitutionsBackend { return openPGBackend(t) })
}

// openPGBackend opens a pgBackend on a new database, closed when the test ends.
func openPGBackend(t *testing.T) *pgBackend {
	t.Helper()
	b := &pgBackend{clock: &clock{now: time.Now().UTC()}}
	b.Store, b.url = openTest(t, WithNow(b.clock.read))
	t.Cleanup(func() { b.Close() })
	return b
}
