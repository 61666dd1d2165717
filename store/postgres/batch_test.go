package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/store"
)

// TestBatcherSharesCommits has 64 calls arrive while commits take a few
// milliseconds each: every ID is committed exactly once, in fewer commits
// than calls; and when a batch holds a failing ID, only that ID's call
// fails, the others committed alone.
func TestBatcherSharesCommits(t *testing.T) {
	bad := errors.New("no such thing")
	run := func(failing uint64) (errs []error, committed map[uint64]int, commits int) {
		bt := newBatcher()
		var mu sync.Mutex
		committed = map[uint64]int{}
		commit := func(_ context.Context, ids []uint64) error {
			time.Sleep(3 * time.Millisecond)
			mu.Lock()
			defer mu.Unlock()
			commits++
			for _, id := range ids {
				if id == failing {
					return bad // the whole commit is rolled back
				}
			}
			for _, id := range ids {
				committed[id]++
			}
			return nil
		}
		const calls = 64
		errs = make([]error, calls)
		var wg sync.WaitGroup
		for i := range calls {
			wg.Go(func() {
				time.Sleep(time.Duration(i%8) * time.Millisecond) // arriving over a few commits
				errs[i] = bt.do(context.Background(), []uint64{uint64(i + 1)}, commit)
			})
		}
		wg.Wait()
		return errs, committed, commits
	}

	errs, committed, commits := run(0)
	for i, err := range errs {
		assert.NoError(t, err, "call %d", i)
		assert.Equal(t, 1, committed[uint64(i+1)], "ID %d committed once", i+1)
	}
	assert.Less(t, commits, len(errs)/2, "calls arriving during a commit share the next")
	t.Logf("%d calls in %d commits", len(errs), commits)

	errs, committed, _ = run(13)
	for i, err := range errs {
		if i+1 == 13 {
			assert.ErrorIs(t, err, bad, "the failing ID's call fails")
			continue
		}
		assert.NoError(t, err, "call %d", i)
		assert.Equal(t, 1, committed[uint64(i+1)], "ID %d committed once", i+1)
	}
	assert.Zero(t, committed[13])
}

// TestOutboxDoneConcurrentlyCountsEverySend records 300 sends of one
// broadcast from 300 goroutines at once, as a dispatcher with many sends
// in flight does: each is removed, and the broadcast and the minute's
// count move by exactly 300.
func TestOutboxDoneConcurrentlyCountsEverySend(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	const n = 300
	b := &store.Broadcast{TextAR: "نداء", Audience: store.Audience{Kind: store.AudienceEveryone}, CreatedBy: 1, ApprovedBy: 2}
	require.NoError(t, s.CreateBroadcast(ctx, b))
	entries := make([]store.OutboxEntry, n)
	for i := range entries {
		entries[i] = store.OutboxEntry{To: bot.Address{Channel: bot.Telegram, ID: fmt.Sprint(7000 + i)},
			ContactID: uint64(i + 1), Text: b.TextAR}
	}
	require.NoError(t, s.QueueBroadcast(ctx, b.ID, entries))
	queued, err := s.PendingOutbox(ctx, bot.Telegram, true, 0, n+1)
	require.NoError(t, err)
	require.Len(t, queued, n)
	var wg sync.WaitGroup
	for _, e := range queued {
		wg.Go(func() { assert.NoError(t, s.OutboxDone(ctx, e.ID)) })
	}
	wg.Wait()
	got, err := s.Broadcast(ctx, b.ID)
	require.NoError(t, err)
	assert.Equal(t, n, got.Sent)
	assert.Equal(t, store.BroadcastDone, got.Status)
	left, err := s.PendingOutbox(ctx, bot.Telegram, true, 0, n+1)
	require.NoError(t, err)
	assert.Empty(t, left)
	sent, err := s.OutboxSentSince(ctx, bot.Telegram, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, n, sent)
}
