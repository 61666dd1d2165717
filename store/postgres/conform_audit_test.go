package postgres

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceAudit runs the suite's tests of audit on PostgreSQL.
func TestConformanceAudit(t *testing.T) {
	conform.RunAudit(t, func(t *testing.T) conform.AuditBackend { return openConform(t) })
}
