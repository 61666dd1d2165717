package postgres

import (
	"context"
	"sync"
	"testing"
	"time"

	"mobilise/store/storetest/conform"
)

// TestConformance runs the stores' conformance suite on PostgreSQL, each
// test on a database of its own.
func TestConformance(t *testing.T) {
	conform.Run(t, func(t *testing.T) conform.Backend {
		b := &pgBackend{clock: &clock{now: time.Now().UTC()}}
		b.Store, b.url = openTest(t, WithNow(b.clock.read))
		t.Cleanup(func() { b.Close() }) // the store Reopen opened last
		return b
	})
}

// pgBackend is a PostgreSQL store as the suite runs it, on a clock the
// suite moves.
type pgBackend struct {
	*Store
	url   string
	clock *clock
}

func (b *pgBackend) AfterCommit(ctx context.Context, fn func()) { AfterCommit(ctx, fn) }

// Reopen closes the pool, as a process that dies loses its connections
// (and with them every transaction not committed), and connects again.
func (b *pgBackend) Reopen() (conform.Backend, error) {
	b.Close()
	s, err := Open(context.Background(), b.url, WithNow(b.clock.read))
	if err != nil {
		return nil, err
	}
	b.Store = s
	return b, nil
}

func (b *pgBackend) Now() time.Time          { return b.clock.read() }
func (b *pgBackend) Advance(d time.Duration) { b.clock.advance(d) }

// clock is a time that moves when told to, a microsecond per reading so
// that records stamped one after another are in order.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) read() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Microsecond)
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
