package postgres

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceDashboard runs the suite's tests of the dashboard's
// sign-ins on PostgreSQL.
func TestConformanceDashboard(t *testing.T) {
	conform.RunDashboard(t, func(t *testing.T) conform.DashboardBackend { return openPGBackend(t) })
}
