package store_test

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceRecipients runs the suite's tests of recipients on a bbolt file.
func TestConformanceRecipients(t *testing.T) {
	conform.RunRecipients(t, func(t *testing.T) conform.RecipientsBackend { return openClocked(t) })
}
