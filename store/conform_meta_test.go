package store_test

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"mobilise/store"
	"mobilise/store/storetest/conform"
)

// TestConformanceMeta runs the suite's tests of the Telegram offset and of
// handled updates on a bbolt file.
func TestConformanceMeta(t *testing.T) {
	conform.RunMeta(t, func(t *testing.T) conform.MetaBackend { return openClocked(t) })
}

// clockedBackend is a bbolt store on a clock the suite moves.
type clockedBackend struct {
	*bboltBackend
	clock *testClock
}

// openClocked opens a bbolt file in t.TempDir on a clock of its own,
// closed when the test ends.
func openClocked(t *testing.T) *clockedBackend {
	b := &clockedBackend{
		bboltBackend: &bboltBackend{path: filepath.Join(t.TempDir(), "mobilise.db")},
		clock:        &testClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)},
	}
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

func (b *clockedBackend) open() error {
	s, err := store.Open(b.path, store.WithNow(b.clock.read))
	if err != nil {
		return err
	}
	b.Store = s
	return nil
}

// Reopen closes the file and opens it again on the same clock.
func (b *clockedBackend) Reopen() (conform.Backend, error) {
	if err := b.Close(); err != nil {
		return nil, err
	}
	return b, b.open()
}

func (b *clockedBackend) Now() time.Time          { return b.clock.read() }
func (b *clockedBackend) Advance(d time.Duration) { b.clock.advance(d) }

// testClock is a time that moves when told to, a microsecond per reading.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) read() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Microsecond)
	return c.now
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
