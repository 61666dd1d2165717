package store_test

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceContacts runs the suite's tests of contacts on a bbolt file.
func TestConformanceContacts(t *testing.T) {
	conform.RunContacts(t, func(t *testing.T) conform.ContactsBackend { return openClocked(t) })
}
