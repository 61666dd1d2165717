package store_test

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceReminders runs the suite's tests of reminders on a bbolt file.
func TestConformanceReminders(t *testing.T) {
	conform.RunReminders(t, func(t *testing.T) conform.RemindersBackend { return openClocked(t) })
}
