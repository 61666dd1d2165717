package postgres

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceSessions runs the suite's tests of sessions on PostgreSQL.
func TestConformanceSessions(t *testing.T) {
	conform.RunSessions(t, func(t *testing.T) conform.SessionsBackend { return openConform(t) })
}
