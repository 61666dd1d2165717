package conform

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"mobilise/bot"
	"mobilise/store"

	"github.com/stretchr/testify/require"
)

// BroadcastsBackend is a Backend with the whole of a broadcast's life:
// listing, editing, queueing from its audience, cancelling, suspending and
// resuming.
type BroadcastsBackend interface {
	RecipientsBackend
	Broadcasts(ctx context.Context) ([]store.Broadcast, error)
	UpdateBroadcast(ctx context.Context, id uint64, fn func(*store.Broadcast) error) (*store.Broadcast, error)
	QueueBroadcastStream(ctx context.Context, id uint64, channelOK func(channel bot.ChannelName) bool,
		render func([]store.Recipient) ([]store.OutboxEntry, error)) (int, error)
	CancelBroadcast(ctx context.Context, id uint64) (int, error)
	SetStatusMessage(ctx context.Context, broadcastID uint64, to bot.Address, messageID string) error
	SuspendBroadcast(ctx context.Context, id uint64) (int, error)
	ResumeBroadcast(ctx context.Context, id, author uint64) (*store.Broadcast, error)
}

// RunBroadcasts runs the tests of broadcasts, each on a new backend.
func RunBroadcasts(t *testing.T, open func(t *testing.T) BroadcastsBackend) {
	t.Run("Broadcasts", func(t *testing.T) { testBroadcasts(t, open(t)) })
	t.Run("QueueBroadcastStream", func(t *testing.T) { testQueueStream(t, open(t)) })
	t.Run("CancelBroadcast", func(t *testing.T) { testCancelBroadcast(t, open(t)) })
	t.Run("ConcurrentCancelAndSend", func(t *testing.T) { testConcurrentCancel(t, open(t)) })
	t.Run("SuspendBroadcast", func(t *testing.T) { testSuspendBroadcast(t, open(t)) })
}

func testBroadcasts(t *testing.T, b BroadcastsBackend) {
	all, err := b.Broadcasts(ctx)
	require.NoError(t, err)
	require.Empty(t, all)
	first := &store.Broadcast{TextAR: "أ", CreatedBy: 4}
	second := &store.Broadcast{TextAR: "ب", Status: store.BroadcastQueued}
	require.NoError(t, b.CreateBroadcast(ctx, first))
	require.NoError(t, b.CreateBroadcast(ctx, second))
	all, err = b.Broadcasts(ctx)
	require.NoError(t, err)
	require.Equal(t, []store.Broadcast{*first, *second}, all, "in ID order")

	got, err := b.UpdateBroadcast(ctx, first.ID, func(bc *store.Broadcast) error {
		bc.ID, bc.ApprovedBy, bc.Status = 99, 5, store.BroadcastQueued
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, first.ID, got.ID, "the ID cannot change")
	require.Equal(t, uint64(5), got.ApprovedBy)
	boom := errors.New("boom")
	_, err = b.UpdateBroadcast(ctx, first.ID, func(bc *store.Broadcast) error {
		bc.ApprovedBy = 6
		return boom
	})
	require.ErrorIs(t, err, boom)
	read, err := b.Broadcast(ctx, first.ID)
	require.NoError(t, err)
	require.Equal(t, *got, *read, "nothing written")
	_, err = b.UpdateBroadcast(ctx, second.ID+10, func(*store.Broadcast) error { return nil })
	require.ErrorIs(t, err, store.ErrNotFound)

	require.NoError(t, b.SetStatusMessage(ctx, first.ID, addr("telegram:4"), "771"))
	require.NoError(t, b.SetStatusMessage(ctx, first.ID, addr("whatsapp:9704"), "wamid.1"))
	require.NoError(t, b.SetStatusMessage(ctx, first.ID, addr("telegram:4"), "772"))
	read, err = b.Broadcast(ctx, first.ID)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"telegram:4": "772", "whatsapp:9704": "wamid.1"}, read.StatusMessage)
	require.ErrorIs(t, b.SetStatusMessage(ctx, second.ID+10, addr("telegram:4"), "1"), store.ErrNotFound)
}

// render makes one entry per recipient, in its language, failing on the
// call failOn (counting from 1; 0 never).
func render(bc *store.Broadcast, calls *int, failOn int) func([]store.Recipient) ([]store.OutboxEntry, error) {
	return func(rs []store.Recipient) ([]store.OutboxEntry, error) {
		*calls++
		if *calls == failOn {
			return nil, errors.New("the process stops")
		}
		out := make([]store.OutboxEntry, 0, len(rs))
		for _, r := range rs {
			text := bc.TextAR
			if r.Lang == "en" && bc.TextEN != "" {
				text = bc.TextEN
			}
			if r.Address.Channel == bot.WhatsApp {
				text = fmt.Sprintf("%s, %s", r.Name, text)
			}
			out = append(out, store.OutboxEntry{To: r.Address, ContactID: r.ContactID, Text: text, Lang: r.Lang})
		}
		return out, nil
	}
}

func testQueueStream(t *testing.T, b BroadcastsBackend) {
	cs, _ := audienceFixture(t, b)
	bc := &store.Broadcast{TextAR: "نداء", TextEN: "A call", Audience: store.Audience{Kind: store.AudienceEveryone}}
	require.NoError(t, b.CreateBroadcast(ctx, bc))

	calls := 0
	n, err := b.QueueBroadcastStream(ctx, bc.ID, nil, render(bc, &calls, 1))
	require.Error(t, err, "rendering failed")
	require.Zero(t, n)
	got, err := b.Broadcast(ctx, bc.ID)
	require.NoError(t, err)
	require.Zero(t, got.Total)
	require.Equal(t, store.BroadcastAwaitingApproval, got.Status, "nothing written")

	noConsole := func(ch bot.ChannelName) bool { return ch != bot.Console }
	n, err = b.QueueBroadcastStream(ctx, bc.ID, noConsole, render(bc, &calls, 0))
	require.NoError(t, err)
	require.Equal(t, 3, n)
	got, err = b.Broadcast(ctx, bc.ID)
	require.NoError(t, err)
	require.Equal(t, 3, got.Total)
	require.True(t, got.AllQueued)
	require.Equal(t, store.BroadcastQueued, got.Status)
	tg, wa := allPending(t, b, bot.Telegram, true), allPending(t, b, bot.WhatsApp, true)
	require.Len(t, tg, 1)
	require.Equal(t, cs[0].ID, tg[0].ContactID)
	require.Equal(t, "نداء", tg[0].Text)
	require.Len(t, wa, 2)
	require.Equal(t, "Basel, A call", wa[0].Text)
	require.Equal(t, "Dana, نداء", wa[1].Text)
	for _, e := range append(tg, wa...) {
		require.Equal(t, bc.ID, e.BroadcastID)
		require.True(t, e.Bulk)
		require.Equal(t, store.KindBroadcast, e.Kind)
	}
	require.Empty(t, allPending(t, b, bot.Console, true))

	n, err = b.QueueBroadcastStream(ctx, bc.ID, nil, render(bc, &calls, 0))
	require.NoError(t, err)
	require.Zero(t, n, "all queued: nothing more")

	empty := &store.Broadcast{TextAR: "x", Audience: store.Audience{Kind: store.AudienceGovernorate, Governorate: "jenin"}}
	require.NoError(t, b.CreateBroadcast(ctx, empty))
	n, err = b.QueueBroadcastStream(ctx, empty.ID, nil, render(empty, &calls, 0))
	require.NoError(t, err)
	require.Zero(t, n)
	got, err = b.Broadcast(ctx, empty.ID)
	require.NoError(t, err)
	require.True(t, got.AllQueued)
	require.Equal(t, store.BroadcastDone, got.Status, "an empty audience is done at once")

	closedOne := &store.Broadcast{TextAR: "x", Audience: store.Audience{Kind: store.AudienceEveryone}, Status: store.BroadcastCancelled}
	require.NoError(t, b.CreateBroadcast(ctx, closedOne))
	_, err = b.QueueBroadcastStream(ctx, closedOne.ID, nil, render(closedOne, &calls, 0))
	require.ErrorIs(t, err, store.ErrBroadcastClosed)
	_, err = b.QueueBroadcastStream(ctx, closedOne.ID+9, nil, render(closedOne, &calls, 0))
	require.ErrorIs(t, err, store.ErrNotFound)

	// in a unit of work that fails, nothing is queued
	again := &store.Broadcast{TextAR: "y", Audience: store.Audience{Kind: store.AudienceEveryone}}
	require.NoError(t, b.CreateBroadcast(ctx, again))
	boom := errors.New("boom")
	err = b.InTx(ctx, func(ctx context.Context) error {
		n, err := b.QueueBroadcastStream(ctx, again.ID, nil, render(again, &calls, 0))
		if err != nil {
			return err
		}
		require.Equal(t, 4, n)
		return boom
	})
	require.ErrorIs(t, err, boom)
	got, err = b.Broadcast(ctx, again.ID)
	require.NoError(t, err)
	require.Zero(t, got.Total)
	require.Empty(t, allPending(t, b, bot.Console, true))
}

func testCancelBroadcast(t *testing.T, b BroadcastsBackend) {
	bc := &store.Broadcast{TextAR: "x"}
	require.NoError(t, b.CreateBroadcast(ctx, bc))
	other := &store.Broadcast{TextAR: "y"}
	require.NoError(t, b.CreateBroadcast(ctx, other))
	require.NoError(t, b.Enqueue(ctx, store.OutboxEntry{To: addr("telegram:1"), Text: "a notice"}))
	require.NoError(t, b.QueueBroadcast(ctx, bc.ID, outboxEntries(100, "x")))
	require.NoError(t, b.Enqueue(ctx, store.OutboxEntry{To: addr("telegram:1"), Text: "a test send", BroadcastID: bc.ID}))
	require.NoError(t, b.QueueBroadcast(ctx, other.ID, outboxEntries(10, "y")))

	var mine []store.OutboxEntry
	for _, e := range allPending(t, b, bot.Telegram, true) {
		if e.BroadcastID == bc.ID {
			mine = append(mine, e)
		}
	}
	require.NoError(t, b.OutboxDone(ctx, mine[0].ID, mine[1].ID, mine[2].ID))
	inFlight := mine[3]

	removed, err := b.CancelBroadcast(ctx, bc.ID)
	require.NoError(t, err)
	require.Equal(t, 97, removed)
	got, err := b.Broadcast(ctx, bc.ID)
	require.NoError(t, err)
	require.Equal(t, store.BroadcastCancelled, got.Status)
	require.False(t, got.FinishedAt.IsZero())
	require.Equal(t, 3, got.Sent)
	require.Equal(t, 97, got.Cancelled)
	require.Zero(t, got.Left())
	for _, e := range append(allPending(t, b, bot.Telegram, true), allPending(t, b, bot.WhatsApp, true)...) {
		require.Equal(t, other.ID, e.BroadcastID, "only the other broadcast's entries are left")
	}
	require.Len(t, allPending(t, b, bot.Telegram, false), 2, "notices and test sends stay")
	queued, err := b.OutboxQueued(ctx, inFlight.ID)
	require.NoError(t, err)
	require.False(t, queued)

	// the send in flight finishes: nothing to record; cancelling again changes nothing
	require.NoError(t, b.OutboxDone(ctx, inFlight.ID))
	removed, err = b.CancelBroadcast(ctx, bc.ID)
	require.NoError(t, err)
	require.Zero(t, removed)
	again, err := b.Broadcast(ctx, bc.ID)
	require.NoError(t, err)
	require.Equal(t, 3, again.Sent)
	require.True(t, got.FinishedAt.Equal(again.FinishedAt), "cancelled once")
	require.ErrorIs(t, b.QueueBroadcast(ctx, bc.ID, outboxEntries(10, "x")), store.ErrBroadcastClosed)
	_, err = b.CancelBroadcast(ctx, other.ID+99)
	require.ErrorIs(t, err, store.ErrNotFound)

	// a done broadcast is left as it is
	for _, e := range append(allPending(t, b, bot.Telegram, true), allPending(t, b, bot.WhatsApp, true)...) {
		require.NoError(t, b.OutboxDone(ctx, e.ID))
	}
	removed, err = b.CancelBroadcast(ctx, other.ID)
	require.NoError(t, err)
	require.Zero(t, removed)
	got, err = b.Broadcast(ctx, other.ID)
	require.NoError(t, err)
	require.Equal(t, store.BroadcastDone, got.Status)
	require.Equal(t, 10, got.Sent)
}

// testConcurrentCancel: dispatchers record sends while the broadcast is
// cancelled; every entry is counted once, as sent or cancelled.
func testConcurrentCancel(t *testing.T, b BroadcastsBackend) {
	const n = 400
	bc := &store.Broadcast{TextAR: "x"}
	require.NoError(t, b.CreateBroadcast(ctx, bc))
	require.NoError(t, b.QueueBroadcast(ctx, bc.ID, outboxEntries(n, "x")))
	entries := append(allPending(t, b, bot.Telegram, true), allPending(t, b, bot.WhatsApp, true)...)
	slices.SortFunc(entries, func(a, b store.OutboxEntry) int { return cmp.Compare(a.ID, b.ID) })
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(entries); i += 4 {
				if err := b.OutboxDone(ctx, entries[i].ID); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var removed int
	wg.Go(func() {
		var err error
		removed, err = b.CancelBroadcast(ctx, bc.ID)
		if err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	got, err := b.Broadcast(ctx, bc.ID)
	require.NoError(t, err)
	require.Equal(t, removed, got.Cancelled)
	require.Equal(t, n, got.Sent+got.Cancelled, "each entry once: sent %d, cancelled %d", got.Sent, got.Cancelled)
	depth, err := b.OutboxDepth(ctx)
	require.NoError(t, err)
	require.Zero(t, depth[bot.Telegram]+depth[bot.WhatsApp])
}

func testSuspendBroadcast(t *testing.T, b BroadcastsBackend) {
	bc := &store.Broadcast{TextAR: "x", CreatedBy: 4, ApprovedBy: 5}
	require.NoError(t, b.CreateBroadcast(ctx, bc))
	require.NoError(t, b.QueueBroadcast(ctx, bc.ID, outboxEntries(9, "x")))
	require.NoError(t, b.Enqueue(ctx, store.OutboxEntry{To: addr("telegram:1"), Text: "a notice", BroadcastID: bc.ID}))
	tg := allPending(t, b, bot.Telegram, true)
	require.Len(t, tg, 6)
	require.NoError(t, b.OutboxDone(ctx, tg[0].ID))

	_, err := b.ResumeBroadcast(ctx, bc.ID, 8)
	require.ErrorIs(t, err, store.ErrNotSuspended)
	parked, err := b.SuspendBroadcast(ctx, bc.ID)
	require.NoError(t, err)
	require.Equal(t, 8, parked)
	require.Empty(t, allPending(t, b, bot.Telegram, true), "no dispatcher sees them")
	require.Empty(t, allPending(t, b, bot.WhatsApp, true))
	require.Len(t, allPending(t, b, bot.Telegram, false), 1, "notices stay")
	if c, ok := b.(Claimer); ok {
		claimed, err := c.ClaimOutbox(ctx, bot.Telegram, true, 100, time.Minute)
		require.NoError(t, err)
		require.Empty(t, claimed, "nor claims them")
	}
	depth, err := b.OutboxDepth(ctx)
	require.NoError(t, err)
	require.Equal(t, map[bot.ChannelName]int{bot.Telegram: 6, bot.WhatsApp: 3}, depth, "parked entries are counted")
	got, err := b.Broadcast(ctx, bc.ID)
	require.NoError(t, err)
	require.Equal(t, store.BroadcastSuspended, got.Status)
	require.Equal(t, store.BroadcastSending, got.SuspendedFrom)
	parked, err = b.SuspendBroadcast(ctx, bc.ID)
	require.NoError(t, err)
	require.Zero(t, parked, "suspended already")

	res, err := b.ResumeBroadcast(ctx, bc.ID, 8)
	require.NoError(t, err)
	require.Equal(t, store.BroadcastSending, res.Status, "back where it was")
	require.Equal(t, uint64(8), res.CreatedBy)
	require.Empty(t, res.SuspendedFrom)
	require.Equal(t, uint64(5), res.ApprovedBy, "an approved broadcast keeps its approval")
	tg, wa := allPending(t, b, bot.Telegram, true), allPending(t, b, bot.WhatsApp, true)
	require.Len(t, tg, 5)
	require.Len(t, wa, 3)
	for _, e := range append(tg, wa...) {
		require.False(t, e.Parked)
		require.True(t, e.Bulk)
	}

	// suspended awaiting approval, then queued: parked, and queued when resumed
	waiting := &store.Broadcast{TextAR: "z", CreatedBy: 4, ApprovedBy: 5}
	require.NoError(t, b.CreateBroadcast(ctx, waiting))
	parked, err = b.SuspendBroadcast(ctx, waiting.ID)
	require.NoError(t, err)
	require.Zero(t, parked)
	require.NoError(t, b.QueueBroadcast(ctx, waiting.ID, []store.OutboxEntry{
		{To: addr("telegram:20"), ContactID: 20, Text: "z"}, {To: addr("whatsapp:21"), ContactID: 21, Text: "z"}}))
	require.Len(t, allPending(t, b, bot.Telegram, true), 5, "parked as they are queued")
	got, err = b.Broadcast(ctx, waiting.ID)
	require.NoError(t, err)
	require.Equal(t, store.BroadcastSuspended, got.Status)
	require.Equal(t, store.BroadcastQueued, got.SuspendedFrom)
	res, err = b.ResumeBroadcast(ctx, waiting.ID, 8)
	require.NoError(t, err)
	require.Equal(t, store.BroadcastQueued, res.Status)
	require.Len(t, allPending(t, b, bot.Telegram, true), 6)
	require.Len(t, allPending(t, b, bot.WhatsApp, true), 4)

	// one awaiting approval awaits it again, from its new author
	unapproved := &store.Broadcast{TextAR: "z", CreatedBy: 4, ApprovedBy: 5}
	require.NoError(t, b.CreateBroadcast(ctx, unapproved))
	_, err = b.SuspendBroadcast(ctx, unapproved.ID)
	require.NoError(t, err)
	res, err = b.ResumeBroadcast(ctx, unapproved.ID, 8)
	require.NoError(t, err)
	require.Equal(t, store.BroadcastAwaitingApproval, res.Status)
	require.Zero(t, res.ApprovedBy)
	waiting = unapproved

	// done and cancelled broadcasts are left as they are
	_, err = b.CancelBroadcast(ctx, waiting.ID)
	require.NoError(t, err)
	parked, err = b.SuspendBroadcast(ctx, waiting.ID)
	require.NoError(t, err)
	require.Zero(t, parked)
	got, err = b.Broadcast(ctx, waiting.ID)
	require.NoError(t, err)
	require.Equal(t, store.BroadcastCancelled, got.Status)
	_, err = b.SuspendBroadcast(ctx, waiting.ID+9)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = b.ResumeBroadcast(ctx, waiting.ID+9, 8)
	require.ErrorIs(t, err, store.ErrNotFound)
}
