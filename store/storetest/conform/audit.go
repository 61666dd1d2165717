package conform

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"mobilise/store"

	"github.com/stretchr/testify/require"
)

// AuditBackend is a Backend that keeps the audit log.
type AuditBackend interface {
	Backend
	AppendAudit(ctx context.Context, e store.AuditEntry) error
	Audit(ctx context.Context, fn func(*store.AuditEntry) error) error
}

// RunAudit runs the tests of the audit log, each on a new backend.
func RunAudit(t *testing.T, open func(t *testing.T) AuditBackend) {
	t.Run("Audit", func(t *testing.T) { testAudit(t, open(t)) })
	t.Run("ConcurrentAudit", func(t *testing.T) { testConcurrentAudit(t, open(t)) })
}

func auditLog(t *testing.T, b AuditBackend) []store.AuditEntry {
	t.Helper()
	var out []store.AuditEntry
	require.NoError(t, b.Audit(ctx, func(e *store.AuditEntry) error {
		out = append(out, *e)
		return nil
	}))
	return out
}

func testAudit(t *testing.T, b AuditBackend) {
	require.Empty(t, auditLog(t, b))
	at := time.Date(2026, 3, 1, 9, 0, 0, 7, time.UTC)
	require.NoError(t, b.AppendAudit(ctx, store.AuditEntry{At: at, ActorID: 3, Action: "broadcast.approve",
		Details: map[string]string{"broadcast": "5"}}))
	require.NoError(t, b.AppendAudit(ctx, store.AuditEntry{ActorID: 4, Action: "pause"}))
	log := auditLog(t, b)
	require.Len(t, log, 2)
	require.Equal(t, store.AuditEntry{ID: log[0].ID, At: at, ActorID: 3, Action: "broadcast.approve",
		Details: map[string]string{"broadcast": "5"}}, log[0])
	require.NotZero(t, log[0].ID)
	require.Greater(t, log[1].ID, log[0].ID, "oldest first")
	require.False(t, log[1].At.IsZero(), "a zero At is stamped")

	stop := errors.New("stop")
	n := 0
	require.Equal(t, stop, b.Audit(ctx, func(*store.AuditEntry) error {
		n++
		return stop
	}))
	require.Equal(t, 1, n)

	// an entry appended in a unit of work that fails is not kept
	boom := errors.New("boom")
	require.ErrorIs(t, b.InTx(ctx, func(ctx context.Context) error {
		if err := b.AppendAudit(ctx, store.AuditEntry{ActorID: 5, Action: "forget"}); err != nil {
			return err
		}
		return boom
	}), boom)
	require.Len(t, auditLog(t, b), 2)
}

// testConcurrentAudit: entries appended at once are all kept, each with an
// ID of its own.
func testConcurrentAudit(t *testing.T, b AuditBackend) {
	const workers, each = 6, 20
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range each {
				if err := b.AppendAudit(ctx, store.AuditEntry{ActorID: uint64(w + 1), Action: "x"}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	log := auditLog(t, b)
	require.Len(t, log, workers*each)
	for i := 1; i < len(log); i++ {
		require.Greater(t, log[i].ID, log[i-1].ID)
	}
}
