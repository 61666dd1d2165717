package postgres

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceForget runs the suite's tests of forgetting a person on
// PostgreSQL.
func TestConformanceForget(t *testing.T) {
	conform.RunForget(t, func(t *testing.T) conform.ForgetBackend { return openConform(t) })
}
