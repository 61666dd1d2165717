package postgres

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceLedger runs the suite's tests of ledger on PostgreSQL.
func TestConformanceLedger(t *testing.T) {
	conform.RunLedger(t, func(t *testing.T) conform.LedgerBackend { return openConform(t) })
}
