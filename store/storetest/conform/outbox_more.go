package conform

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"mobilise/bot"
	"mobilise/store"

	"github.com/stretchr/testify/require"
)

// OutboxMoreBackend is a Backend with the rest of the outbox: forgetting
// a person's messages, withdrawing their bulk ones, counting bulk sends
// and replacing a queued message, on a clock the suite moves.
type OutboxMoreBackend interface {
	Backend
	Clock
	OutboxForget(ctx context.Context, contactID uint64, addrs []bot.Address) (int, error)
	OutboxWithdrawBulk(ctx context.Context, contactID uint64, addrs []bot.Address) (int, error)
	OutboxSentSince(ctx context.Context, channel bot.ChannelName, since time.Time) (int, error)
	ReplaceQueued(ctx context.Context, id uint64, text string, buttons [][]bot.Button) (bool, error)
}

// RunOutboxMore runs those tests, each on a new backend.
func RunOutboxMore(t *testing.T, open func(t *testing.T) OutboxMoreBackend) {
	t.Run("OutboxForget", func(t *testing.T) { testOutboxForget(t, open(t)) })
	t.Run("OutboxWithdrawBulk", func(t *testing.T) { testWithdrawBulk(t, open(t)) })
	t.Run("OutboxSentSince", func(t *testing.T) { testSentCountsKept(t, open(t)) })
	t.Run("ConcurrentSentCounts", func(t *testing.T) { testConcurrentSentCounts(t, open(t)) })
	t.Run("ReplaceQueued", func(t *testing.T) { testReplaceQueued(t, open(t)) })
}

func addrList(ss ...string) []bot.Address {
	out := make([]bot.Address, len(ss))
	for i, s := range ss {
		out[i] = addr(s)
	}
	return out
}

func testOutboxForget(t *testing.T, b OutboxMoreBackend) {
	bc := &store.Broadcast{TextAR: "x"}
	require.NoError(t, b.CreateBroadcast(ctx, bc))
	require.NoError(t, b.QueueBroadcast(ctx, bc.ID, []store.OutboxEntry{
		{To: addr("telegram:1"), ContactID: 1, Text: "x"},
		{To: addr("telegram:2"), ContactID: 2, Text: "x"},
	}))
	require.NoError(t, b.Enqueue(ctx,
		store.OutboxEntry{To: addr("whatsapp:1"), ContactID: 1, Text: "a notice"},
		store.OutboxEntry{To: addr("console:one"), Text: "no contact ID"},
		store.OutboxEntry{To: addr("telegram:2"), ContactID: 2, Text: "someone else"},
		store.OutboxEntry{To: addr("telegram:3"), Text: "nobody's", Bulk: true},
	))
	removed, err := b.OutboxForget(ctx, 1, addrList("telegram:1", "console:one"))
	require.NoError(t, err)
	require.Equal(t, 3, removed)
	require.Len(t, allPending(t, b, bot.Telegram, true), 2)
	require.Len(t, allPending(t, b, bot.Telegram, false), 1)
	require.Empty(t, allPending(t, b, bot.WhatsApp, false))
	require.Empty(t, allPending(t, b, bot.Console, false))
	got, err := b.Broadcast(ctx, bc.ID)
	require.NoError(t, err)
	require.Equal(t, 1, got.Cancelled)
	require.Equal(t, store.BroadcastQueued, got.Status, "a cancelled message does not start the sending")
	removed, err = b.OutboxForget(ctx, 1, addrList("telegram:1"))
	require.NoError(t, err)
	require.Zero(t, removed, "again: nothing left")
	removed, err = b.OutboxForget(ctx, 0, nil)
	require.NoError(t, err)
	require.Zero(t, removed, "no contact and no address match nothing")

	// the other recipient's message settles it
	for _, e := range allPending(t, b, bot.Telegram, true) {
		if e.BroadcastID == bc.ID {
			require.NoError(t, b.OutboxDone(ctx, e.ID))
		}
	}
	got, err = b.Broadcast(ctx, bc.ID)
	require.NoError(t, err)
	require.Equal(t, store.BroadcastDone, got.Status)
	require.Equal(t, []int{1, 1}, []int{got.Sent, got.Cancelled})

	// in a unit of work that fails, nothing is forgotten
	boom := errors.New("boom")
	err = b.InTx(ctx, func(ctx context.Context) error {
		n, err := b.OutboxForget(ctx, 2, nil)
		if err != nil {
			return err
		}
		require.Equal(t, 1, n)
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.Len(t, allPending(t, b, bot.Telegram, false), 1)
}

func testWithdrawBulk(t *testing.T, b OutboxMoreBackend) {
	bc := &store.Broadcast{TextAR: "x"}
	require.NoError(t, b.CreateBroadcast(ctx, bc))
	require.NoError(t, b.QueueBroadcast(ctx, bc.ID, []store.OutboxEntry{
		{To: addr("telegram:1"), ContactID: 1, Text: "x"},
		{To: addr("whatsapp:2"), ContactID: 2, Text: "x"},
	}))
	require.NoError(t, b.Enqueue(ctx,
		store.OutboxEntry{To: addr("telegram:1"), ContactID: 1, Text: "you said /stop"},
		store.OutboxEntry{To: addr("whatsapp:1"), Text: "a reminder", Bulk: true},
		store.OutboxEntry{To: addr("whatsapp:2"), ContactID: 2, Text: "a reminder", Bulk: true},
	))
	removed, err := b.OutboxWithdrawBulk(ctx, 1, addrList("telegram:1", "whatsapp:1"))
	require.NoError(t, err)
	require.Equal(t, 2, removed)
	notices := allPending(t, b, bot.Telegram, false)
	require.Len(t, notices, 1, "the notice stays")
	require.Equal(t, "you said /stop", notices[0].Text)
	require.Empty(t, allPending(t, b, bot.Telegram, true))
	require.Len(t, allPending(t, b, bot.WhatsApp, true), 2, "someone else's")
	got, err := b.Broadcast(ctx, bc.ID)
	require.NoError(t, err)
	require.Equal(t, 1, got.Cancelled)
	require.Equal(t, 1, got.Left())

	// a suspended broadcast's parked messages are bulk too
	type suspender interface {
		SuspendBroadcast(ctx context.Context, id uint64) (int, error)
	}
	if sb, ok := b.(suspender); ok {
		parked, err := sb.SuspendBroadcast(ctx, bc.ID)
		require.NoError(t, err)
		require.Equal(t, 1, parked)
		removed, err = b.OutboxWithdrawBulk(ctx, 2, nil)
		require.NoError(t, err)
		require.Equal(t, 2, removed)
		got, err = b.Broadcast(ctx, bc.ID)
		require.NoError(t, err)
		require.Equal(t, 2, got.Cancelled)
	}
}

func testSentCountsKept(t *testing.T, b OutboxMoreBackend) {
	start := b.Now()
	send := func(bulk bool, channel bot.ChannelName) {
		t.Helper()
		e := []store.OutboxEntry{{To: bot.Address{Channel: channel, ID: "1"}, Text: "x", Bulk: bulk}}
		require.NoError(t, b.Enqueue(ctx, e...))
		require.NoError(t, b.OutboxDone(ctx, e[0].ID))
	}
	sentSince := func(channel bot.ChannelName, since time.Time) int {
		t.Helper()
		n, err := b.OutboxSentSince(ctx, channel, since)
		require.NoError(t, err)
		return n
	}
	require.Zero(t, sentSince(bot.WhatsApp, start))
	send(true, bot.WhatsApp)
	send(true, bot.WhatsApp)
	send(false, bot.WhatsApp) // notices do not count
	send(true, bot.Telegram)
	b.Advance(90 * time.Second)
	send(true, bot.WhatsApp)
	e := []store.OutboxEntry{{To: addr("whatsapp:2"), Text: "x", Bulk: true}}
	require.NoError(t, b.Enqueue(ctx, e...))
	require.NoError(t, b.OutboxFailed(ctx, e[0].ID, "gone", false)) // failures do not count

	require.Equal(t, 3, sentSince(bot.WhatsApp, start))
	require.Equal(t, 1, sentSince(bot.WhatsApp, start.Add(time.Minute)), "to the minute")
	require.Equal(t, 1, sentSince(bot.Telegram, start))
	require.Zero(t, sentSince(bot.Console, start))

	// counts older than 48 hours are pruned by later sends
	b.Advance(49 * time.Hour)
	send(true, bot.WhatsApp)
	require.Equal(t, 1, sentSince(bot.WhatsApp, start))
	require.Equal(t, 1, sentSince(bot.Telegram, start), "another channel's are pruned by its own sends")
}

// testConcurrentSentCounts: sends recorded at once are each counted.
func testConcurrentSentCounts(t *testing.T, b OutboxMoreBackend) {
	const workers, each = 6, 10
	start := b.Now()
	entries := make([]store.OutboxEntry, workers*each)
	for i := range entries {
		entries[i] = store.OutboxEntry{To: addr("whatsapp:1"), Text: "x", Bulk: true}
	}
	require.NoError(t, b.Enqueue(ctx, entries...))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w * each; i < (w+1)*each; i++ {
				if err := b.OutboxDone(ctx, entries[i].ID); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	n, err := b.OutboxSentSince(ctx, bot.WhatsApp, start)
	require.NoError(t, err)
	require.Equal(t, workers*each, n)
}

func testReplaceQueued(t *testing.T, b OutboxMoreBackend) {
	bc := &store.Broadcast{TextAR: "نداء"}
	require.NoError(t, b.CreateBroadcast(ctx, bc))
	require.NoError(t, b.QueueBroadcast(ctx, bc.ID, []store.OutboxEntry{{To: addr("telegram:1"), ContactID: 1, Text: "نداء"}}))
	report := []store.OutboxEntry{{To: addr("telegram:9"), Text: "sent 0 of 1", Buttons: [][]bot.Button{{{Text: "stop", Payload: "x"}}}, StatusOf: bc.ID}}
	require.NoError(t, b.Enqueue(ctx, report...))

	buttons := [][]bot.Button{{{Text: "cancel", Payload: "c"}, {Text: "more", Payload: "m"}}}
	ok, err := b.ReplaceQueued(ctx, report[0].ID, "sent 1 of 1", buttons)
	require.NoError(t, err)
	require.True(t, ok)
	got := allPending(t, b, bot.Telegram, false)
	require.Len(t, got, 1)
	require.Equal(t, "sent 1 of 1", got[0].Text)
	require.Equal(t, buttons, got[0].Buttons)
	require.Equal(t, bc.ID, got[0].StatusOf, "the rest is kept")
	ok, err = b.ReplaceQueued(ctx, report[0].ID, "no buttons", nil)
	require.NoError(t, err)
	require.True(t, ok)
	got = allPending(t, b, bot.Telegram, false)
	require.Equal(t, "no buttons", got[0].Text)
	require.Empty(t, got[0].Buttons)

	// being sent: not replaced; gone: not there
	require.NoError(t, b.OutboxStarted(ctx, report[0].ID))
	ok, err = b.ReplaceQueued(ctx, report[0].ID, "too late", nil)
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, "no buttons", allPending(t, b, bot.Telegram, false)[0].Text)
	require.NoError(t, b.OutboxDone(ctx, report[0].ID))
	ok, err = b.ReplaceQueued(ctx, report[0].ID, "gone", nil)
	require.NoError(t, err)
	require.False(t, ok)
}
