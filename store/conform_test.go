package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"mobilise/store"
	"mobilise/store/storetest/conform"
)

// TestConformance runs the stores' conformance suite on a bbolt file.
func TestConformance(t *testing.T) {
	conform.Run(t, func(t *testing.T) conform.Backend {
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
	})
}

// bboltBackend is a bbolt store as the suite runs it.
type bboltBackend struct {
	*store.Store
	path string
}

func (b *bboltBackend) open() error {
	s, err := store.Open(b.path)
	if err != nil {
		return err
	}
	b.Store = s
	return nil
}

func (b *bboltBackend) AfterCommit(ctx context.Context, fn func()) { store.AfterCommit(ctx, fn) }

// Reopen closes the file and opens it again: what a crash leaves of a
// bbolt file is what its last commit wrote.
func (b *bboltBackend) Reopen() (conform.Backend, error) {
	if err := b.Close(); err != nil {
		return nil, err
	}
	return b, b.open()
}
