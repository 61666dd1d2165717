package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/outbox"
	"mobilise/store"
	"mobilise/store/postgres"
	"mobilise/store/postgres/pgtest"
)

// openPostgres opens a store on the database at url, closed when the test
// ends unless the test closed it first.
func openPostgres(t testing.TB, url string, opts ...postgres.Option) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), url, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// countingSender counts the sends of one dispatcher that went through.
type countingSender struct {
	bot.Sender
	sent atomic.Int64
}

func (s *countingSender) Send(ctx context.Context, msg bot.Outgoing) (string, error) {
	id, err := s.Sender.Send(ctx, msg)
	if err == nil {
		s.sent.Add(1)
	}
	return id, err
}

// running is a dispatcher's Run on a goroutine of its own.
type running struct {
	q      *outbox.Queue
	cancel context.CancelFunc
	done   chan error
}

// runDispatcher runs a Telegram dispatcher on st through snd until stop.
func runDispatcher(t *testing.T, st store.Backend, snd bot.Sender, limits outbox.Limits) *running {
	t.Helper()
	q := outbox.NewQueue(st, bot.Telegram)
	d := outbox.NewDispatcher(q, map[bot.ChannelName]bot.Sender{bot.Telegram: snd}, outbox.WithLimits(bot.Telegram, limits))
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{q: q, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- d.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels Run and waits for it to return; stopping twice is a no-op.
func (r *running) stop(t *testing.T) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// waitBroadcastSent waits until the broadcast's Sent reaches n, polling.
func waitBroadcastSent(t *testing.T, st store.Backend, id uint64, n int, timeout time.Duration) *store.Broadcast {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b, err := st.Broadcast(context.Background(), id)
		require.NoError(t, err)
		if b.Sent >= n {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("broadcast %d: %d of %d recorded sent", id, b.Sent, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// requireEachOnce checks that the fake got exactly one message for each of
// telegram:1 … telegram:n and nothing else.
func requireEachOnce(t *testing.T, api *fakeBotAPI, n int) {
	t.Helper()
	api.mu.Lock()
	defer api.mu.Unlock()
	var missing, twice []int
	for i := 1; i <= n; i++ {
		switch c := api.perChat[fmt.Sprint(i)]; {
		case c == 0:
			missing = append(missing, i)
		case c > 1:
			twice = append(twice, i)
		}
	}
	require.Empty(t, missing[:min(len(missing), 10)], "%d chats got nothing", len(missing))
	require.Empty(t, twice[:min(len(twice), 10)], "%d chats got the message more than once", len(twice))
	require.Equal(t, n, api.total)
}

// TestTwoDispatchersShareThePostgresOutbox runs two dispatchers, as two
// instances during a lease handover would, on one PostgreSQL outbox and
// one channel at once: each claims a message before sending it, so every
// message is sent exactly once between them.
func TestTwoDispatchersShareThePostgresOutbox(t *testing.T) {
	const n, concurrency = 2000, 16
	url := pgtest.NewDatabase(t)
	a, b := openPostgres(t, url), openPostgres(t, url)
	api := newFakeBotAPI(0, time.Millisecond)
	t.Cleanup(api.Close)
	bid := queueTelegramBroadcast(t, a, n)

	limits := outbox.Limits{Concurrency: concurrency}
	sa := &countingSender{Sender: telegramChannel(t, api.URL, concurrency+8)}
	sb := &countingSender{Sender: telegramChannel(t, api.URL, concurrency+8)}
	begun := time.Now()
	ra := runDispatcher(t, a, sa, limits)
	rb := runDispatcher(t, b, sb, limits)
	bc := waitBroadcastSent(t, a, bid, n, 2*time.Minute)
	took := time.Since(begun)
	ra.stop(t)
	rb.stop(t)

	requireEachOnce(t, api, n)
	assert.Equal(t, store.BroadcastDone, bc.Status)
	assert.Equal(t, n, bc.Sent)
	assert.Zero(t, bc.Failed+bc.Blocked+bc.Cancelled)
	assert.EqualValues(t, n, sa.sent.Load()+sb.sent.Load())
	assert.Positive(t, sa.sent.Load(), "the first dispatcher sent some")
	assert.Positive(t, sb.sent.Load(), "the second dispatcher sent some")
	depth, err := b.OutboxDepth(context.Background())
	require.NoError(t, err)
	assert.Zero(t, depth[bot.Telegram], "the outbox is empty")
	t.Logf("%d messages, two dispatchers of %d sends in flight each: %d and %d sent, each message once, in %v (%.0f a second)",
		n, concurrency, sa.sent.Load(), sb.sent.Load(), took.Round(time.Millisecond), float64(n)/took.Seconds())
}

// dyingSender sends through its channel until after sends have gone
// through; the sends after those hang until the process dies (kill is
// closed) and never reach the platform.
type dyingSender struct {
	bot.Sender
	after int64
	kill  chan struct{}
	sent  atomic.Int64
	hung  atomic.Int64
}

var errDied = errors.New("the process died")

func (s *dyingSender) Send(ctx context.Context, msg bot.Outgoing) (string, error) {
	if s.sent.Add(1) > s.after {
		s.hung.Add(1)
		<-s.kill
		return "", errDied
	}
	return s.Sender.Send(ctx, msg)
}

// TestDispatcherDiesHoldingClaimsOnPostgres kills a dispatcher on
// PostgreSQL with sends in flight, its store gone before anything more is
// recorded, so its claims are left behind. Another instance's dispatcher
// sends everything else at once, leaves the dead one's messages alone
// while their lease runs, and sends them once it has: nothing is lost and
// nothing is sent twice.
func TestDispatcherDiesHoldingClaimsOnPostgres(t *testing.T) {
	const n, concurrency, before = 1000, 8, 300
	url := pgtest.NewDatabase(t)
	// both instances read one clock, which the test moves past the lease
	var skew atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	a, b := openPostgres(t, url, postgres.WithNow(now)), openPostgres(t, url, postgres.WithNow(now))
	api := newFakeBotAPI(0, time.Millisecond)
	t.Cleanup(api.Close)
	bid := queueTelegramBroadcast(t, b, n)
	limits := outbox.Limits{Concurrency: concurrency}

	dying := &dyingSender{Sender: telegramChannel(t, api.URL, concurrency+8), after: before, kill: make(chan struct{})}
	ra := runDispatcher(t, a, dying, limits)
	waitBroadcastSent(t, b, bid, before, time.Minute)
	deadline := time.Now().Add(time.Minute)
	for dying.hung.Load() < concurrency {
		require.True(t, time.Now().Before(deadline), "%d sends hung of %d", dying.hung.Load(), concurrency)
		time.Sleep(5 * time.Millisecond)
	}
	// the kill: the instance loses its database, then its sends end unrecorded
	require.NoError(t, a.Close())
	close(dying.kill)
	ra.stop(t)
	require.Len(t, pendingAll(t, b, bot.Telegram), n-before, "the dead dispatcher recorded what it sent and nothing else")

	// the other instance sends the rest but for the messages the dead one holds
	killed := time.Now()
	sb := &countingSender{Sender: telegramChannel(t, api.URL, concurrency+8)}
	rb := runDispatcher(t, b, sb, limits)
	waitBroadcastSent(t, b, bid, n-concurrency, time.Minute)
	rest := time.Since(killed)
	time.Sleep(500 * time.Millisecond) // long enough for a wrong send to happen
	left := pendingAll(t, b, bot.Telegram)
	require.Len(t, left, concurrency, "the messages in flight at the kill wait for their lease")
	api.mu.Lock()
	sentBefore := api.total
	api.mu.Unlock()
	require.Equal(t, n-concurrency, sentBefore, "nothing of the dead dispatcher's is sent before its lease runs out")

	// the lease runs out: they are sent, once
	skew.Store(int64(outbox.ClaimLease + time.Second))
	rb.q.Wake()
	bc := waitBroadcastSent(t, b, bid, n, time.Minute)
	rb.stop(t)
	requireEachOnce(t, api, n)
	assert.Equal(t, store.BroadcastDone, bc.Status)
	assert.Zero(t, bc.Failed+bc.Blocked+bc.Cancelled)
	assert.EqualValues(t, n-before, sb.sent.Load())
	t.Logf("%d messages; the first dispatcher died after %d with %d in flight; the second sent the %d others in %v, "+
		"and the %d held ones after their lease (%v); none lost, none twice",
		n, before, concurrency, n-before-concurrency, rest.Round(time.Millisecond), concurrency, outbox.ClaimLease)
}

// claimable is the PostgreSQL store's claiming of single entries, which
// the tests check claims with.
type claimable interface {
	ClaimOutboxEntry(ctx context.Context, id uint64, held time.Time, lease time.Duration) (time.Time, bool, error)
	ReleaseOutboxEntry(ctx context.Context, id uint64, held time.Time) error
}

// unclaimed reports whether every queued entry of the channel is free to
// claim, trying each and releasing it again; on a store without claims it
// reports true.
func unclaimed(t *testing.T, st store.Backend, channel bot.ChannelName) bool {
	t.Helper()
	c, ok := st.(claimable)
	if !ok {
		return true
	}
	ctx := context.Background()
	for _, e := range pendingAll(t, st, channel) {
		until, ok, err := c.ClaimOutboxEntry(ctx, e.ID, time.Time{}, time.Minute)
		require.NoError(t, err)
		if !ok {
			return false
		}
		require.NoError(t, c.ReleaseOutboxEntry(ctx, e.ID, until))
	}
	return true
}

// pendingAll is every queued entry of the channel, notices and bulk.
func pendingAll(t *testing.T, st store.Backend, channel bot.ChannelName) []store.OutboxEntry {
	t.Helper()
	var all []store.OutboxEntry
	for _, bulk := range []bool{false, true} {
		var after uint64
		for {
			page, err := st.PendingOutbox(context.Background(), channel, bulk, after, 500)
			require.NoError(t, err)
			all = append(all, page...)
			if len(page) < 500 {
				break
			}
			after = page[len(page)-1].ID
		}
	}
	return all
}

// TestAtMostOnceLeavesAStartedMessageAnotherDispatcherHolds has, on
// PostgreSQL, a bulk message of an AtMostOnce channel marked Started and
// claimed by another instance's dispatcher, which is still sending it: it
// is not counted interrupted while that claim runs, and is once it has
// run out with the message still queued.
func TestAtMostOnceLeavesAStartedMessageAnotherDispatcherHolds(t *testing.T) {
	ctx := context.Background()
	clock := newClock(t0)
	clock.horizon = t0.Add(outbox.ClaimLease / 2)
	st := openPostgres(t, pgtest.NewDatabase(t), postgres.WithNow(clock.Now))
	b := &store.Broadcast{TextAR: "نداء"}
	require.NoError(t, st.CreateBroadcast(ctx, b))
	require.NoError(t, st.QueueBroadcast(ctx, b.ID, []store.OutboxEntry{
		{To: bot.MustParseAddress("whatsapp:1"), ContactID: 1, Text: "نداء"},
		{To: bot.MustParseAddress("whatsapp:2"), ContactID: 2, Text: "نداء"},
	}))
	pending := pendingAll(t, st, bot.WhatsApp)
	require.Len(t, pending, 2)
	// the other dispatcher claimed the first and marked it started
	_, ok, err := st.ClaimOutboxEntry(ctx, pending[0].ID, time.Time{}, outbox.ClaimLease)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, st.OutboxStarted(ctx, pending[0].ID))

	snd := newFakeSender("whatsapp", clock)
	d := newDispatcher(st, clock, []bot.Sender{snd}, outbox.WithLimits(bot.WhatsApp, outbox.Limits{AtMostOnce: true, Concurrency: 1}))
	start(t, d)
	snd.waitSent(t, 1)
	time.Sleep(100 * time.Millisecond) // room for a wrong record
	got, err := st.Broadcast(ctx, b.ID)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 0}, []int{got.Sent, got.Failed}, "the held message is neither sent nor failed")
	assert.Len(t, pendingAll(t, st, bot.WhatsApp), 1)

	// its dispatcher died: after the lease, it counts as interrupted
	clock.Set(t0.Add(outbox.ClaimLease + time.Second))
	d.Wake()
	require.Eventually(t, func() bool { return len(pendingAll(t, st, bot.WhatsApp)) == 0 }, 10*time.Second, 10*time.Millisecond)
	got, err = st.Broadcast(ctx, b.ID)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 1}, []int{got.Sent, got.Failed})
	assert.Equal(t, "interrupted", got.LastError)
	assert.Len(t, snd.Attempts(), 1, "the started message is never sent again")
}
