package conform

import (
	"context"
	"sync"
	"testing"
	"time"

	"mobilise/store"

	"github.com/stretchr/testify/require"
)

// LedgerBackend is a Backend that keeps the ledger of bulk sends.
type LedgerBackend interface {
	Backend
	RecordBulkSend(ctx context.Context, e store.BulkSend) error
	BulkSentSince(ctx context.Context, author uint64, since time.Time) ([]store.BulkSend, error)
}

// RunLedger runs the tests of the ledger, each on a new backend.
func RunLedger(t *testing.T, open func(t *testing.T) LedgerBackend) {
	t.Run("Ledger", func(t *testing.T) { testLedger(t, open(t)) })
	t.Run("ConcurrentLedger", func(t *testing.T) { testConcurrentLedger(t, open(t)) })
}

func testLedger(t *testing.T, b LedgerBackend) {
	now := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)
	none, err := b.BulkSentSince(ctx, 1, time.Time{})
	require.NoError(t, err)
	require.Empty(t, none)
	require.NoError(t, b.RecordBulkSend(ctx, store.BulkSend{Author: 1, At: now.Add(-30 * time.Hour), Kind: "broadcast", ID: 1, Recipients: 5}))
	require.NoError(t, b.RecordBulkSend(ctx, store.BulkSend{Author: 1, At: now.Add(-time.Hour), Kind: "reminder", ID: 3, Recipients: 4, Approved: true}))
	require.NoError(t, b.RecordBulkSend(ctx, store.BulkSend{Author: 1, At: now.Add(-2 * time.Hour), Kind: "broadcast", ID: 2, Recipients: 2}))
	require.NoError(t, b.RecordBulkSend(ctx, store.BulkSend{Author: 2, At: now, Kind: "broadcast", ID: 4, Recipients: 9}))
	got, err := b.BulkSentSince(ctx, 1, now.Add(-24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []store.BulkSend{
		{Author: 1, At: now.Add(-2 * time.Hour), Kind: "broadcast", ID: 2, Recipients: 2},
		{Author: 1, At: now.Add(-time.Hour), Kind: "reminder", ID: 3, Recipients: 4, Approved: true},
	}, got, "the author's, oldest first")
	got, err = b.BulkSentSince(ctx, 1, now.Add(-time.Hour))
	require.NoError(t, err)
	require.Len(t, got, 1, "since is inclusive")

	require.NoError(t, b.RecordBulkSend(ctx, store.BulkSend{Author: 1, At: now.Add(20 * time.Hour), Kind: "broadcast", ID: 5}))
	all, err := b.BulkSentSince(ctx, 1, time.Time{})
	require.NoError(t, err)
	require.Len(t, all, 3, "sends older than 48 hours are pruned")
	other, err := b.BulkSentSince(ctx, 2, time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.Len(t, other, 1, "another author's are kept")

	var stamped store.BulkSend
	require.NoError(t, b.RecordBulkSend(ctx, store.BulkSend{Author: 3, Kind: "broadcast", ID: 6}))
	mine, err := b.BulkSentSince(ctx, 3, time.Time{})
	require.NoError(t, err)
	require.Len(t, mine, 1)
	stamped = mine[0]
	require.False(t, stamped.At.IsZero(), "a zero At is now")
}

// testConcurrentLedger: sends recorded at once are all in the ledger, so
// an author's parts add up.
func testConcurrentLedger(t *testing.T, b LedgerBackend) {
	at := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if err := b.RecordBulkSend(ctx, store.BulkSend{Author: 1, At: at, Kind: "broadcast", ID: uint64(i + 1), Recipients: 10}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := b.BulkSentSince(ctx, 1, at.Add(-time.Hour))
	require.NoError(t, err)
	total := 0
	for _, e := range got {
		total += e.Recipients
	}
	require.Equal(t, 200, total)
}
