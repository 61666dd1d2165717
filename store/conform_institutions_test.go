package store_test

import (
	"path/filepath"
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceInstitutions runs the suite's tests of institutions and
// their supporters on a bbolt file.
func TestConformanceInstitutions(t *testing.T) {
	conform.RunInstitutions(t, func(t *testing.T) conform.InstitutionsBackend { return openBboltBackend(t) })
}

// The bbolt store lists audiences, so the suite checks its lists of an
// institution's supporters and of a poll's answer as well as the counts.
var _ conform.Lister = (*bboltBackend)(nil)

// openBboltBackend opens a bboltBackend on a new file, closed when the test ends.
func openBboltBackend(t *testing.T) *bboltBackend {
	t.Helper()
	b := &bboltBackend{path: filepath.Join(t.TempDir(), "mobilise.db")}
	if err := b.open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	return b
}
