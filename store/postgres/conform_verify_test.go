package postgres

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceVerify runs the suite's tests of verification codes on
// PostgreSQL.
func TestConformanceVerify(t *testing.T) {
	conform.RunVerify(t, func(t *testing.T) conform.VerifyBackend { return openPGBackend(t) })
}
