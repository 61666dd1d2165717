package postgres

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceRecipients runs the suite's tests of recipients on PostgreSQL.
func TestConformanceRecipients(t *testing.T) {
	conform.RunRecipients(t, func(t *testing.T) conform.RecipientsBackend { return openConform(t) })
}
