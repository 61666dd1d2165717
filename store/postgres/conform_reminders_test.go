package postgres

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceReminders runs the suite's tests of reminders on PostgreSQL.
func TestConformanceReminders(t *testing.T) {
	conform.RunReminders(t, func(t *testing.T) conform.RemindersBackend { return openConform(t) })
}
