package store_test

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceLedger runs the suite's tests of ledger on a bbolt file.
func TestConformanceLedger(t *testing.T) {
	conform.RunLedger(t, func(t *testing.T) conform.LedgerBackend { return openClocked(t) })
}
