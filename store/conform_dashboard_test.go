package store_test

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceDashboard runs the suite's tests of the dashboard's
// sign-ins on a bbolt file.
func TestConformanceDashboard(t *testing.T) {
	conform.RunDashboard(t, func(t *testing.T) conform.DashboardBackend { return openBboltBackend(t) })
}
