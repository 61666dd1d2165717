package store_test

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceSessions runs the suite's tests of sessions on a bbolt file.
func TestConformanceSessions(t *testing.T) {
	conform.RunSessions(t, func(t *testing.T) conform.SessionsBackend { return openClocked(t) })
}
