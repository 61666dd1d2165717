package postgres

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceContacts runs the suite's tests of contacts on PostgreSQL.
func TestConformanceContacts(t *testing.T) {
	conform.RunContacts(t, func(t *testing.T) conform.ContactsBackend { return openConform(t) })
}
