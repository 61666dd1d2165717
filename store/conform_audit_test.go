package store_test

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceAudit runs the suite's tests of audit on a bbolt file.
func TestConformanceAudit(t *testing.T) {
	conform.RunAudit(t, func(t *testing.T) conform.AuditBackend { return openClocked(t) })
}
