package postgres

import (
	"context"
	"testing"

	"mobilise/store/postgres/pgtest"
)

// baseURL and newDatabase are pgtest's, for this package's tests.
func baseURL(tb testing.TB) string     { return pgtest.BaseURL(tb) }
func newDatabase(tb testing.TB) string { return pgtest.NewDatabase(tb) }

// openTest opens a store on a new database, closed when the test ends.
func openTest(tb testing.TB, opts ...Option) (*Store, string) {
	tb.Helper()
	u := newDatabase(tb)
	s, err := Open(context.Background(), u, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s, u
}
