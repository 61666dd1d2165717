package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Hebron on machines without a zone database

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/outbox"
	"mobilise/store"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func TestOrderPerPersonUnderConcurrency(t *testing.T) {
	eachStore(t, func(t *testing.T, clock *vclock, st store.Backend) {
		snd := newFakeSender("telegram", clock)
		snd.before = jitter
		const people, rounds = 40, 5
		var entries []store.OutboxEntry
		for round := range rounds {
			for p := range people {
				entries = append(entries, store.OutboxEntry{To: bot.MustParseAddress(fmt.Sprintf("telegram:%d", p)), Text: fmt.Sprintf("%d/%d", p, round), Bulk: true})
			}
		}
		require.NoError(t, st.Enqueue(context.Background(), entries...))
		d := newDispatcher(st, clock, []bot.Sender{snd}, outbox.WithLimits("telegram", outbox.Limits{Concurrency: 8, PerChat: time.Second}))
		stop := start(t, d)
		snd.waitSent(t, people*rounds)
		stop()

		sent := snd.Sent()
		require.Len(t, sent, people*rounds, "each message once")
		byPerson := map[string][]sentMsg{}
		for _, m := range sent {
			byPerson[m.To] = append(byPerson[m.To], m)
		}
		for p := range people {
			msgs := byPerson[fmt.Sprintf("telegram:%d", p)]
			require.Len(t, msgs, rounds)
			for round, m := range msgs {
				assert.Equal(t, fmt.Sprintf("%d/%d", p, round), m.Text, "person %d keeps their order", p)
			}
		}
		assert.Empty(t, snd.overlaps, "never two messages to one person in flight")
		assert.Greater(t, snd.maxInflight, 1, "sends overlap")
		assert.LessOrEqual(t, snd.maxInflight, 8)
		assert.Zero(t, depth(t, st))
	})
}

func TestGapPerChat(t *testing.T) {
	eachStore(t, func(t *testing.T, clock *vclock, st store.Backend) {
		require.NoError(t, st.Enqueue(context.Background(),
			store.OutboxEntry{To: bot.MustParseAddress("telegram:1"), Text: "1a"},
			store.OutboxEntry{To: bot.MustParseAddress("telegram:1"), Text: "1b"},
			store.OutboxEntry{To: bot.MustParseAddress("telegram:2"), Text: "2a"},
			store.OutboxEntry{To: bot.MustParseAddress("telegram:1"), Text: "1c"},
		))
		snd := newFakeSender("telegram", clock)
		// one send at a time, so the virtual clock only moves between sends
		d := newDispatcher(st, clock, []bot.Sender{snd}, outbox.WithLimits("telegram", outbox.Limits{Concurrency: 1, PerChat: time.Second}))
		start(t, d)
		snd.waitSent(t, 4)
		var got []string
		for _, m := range snd.Sent() {
			got = append(got, fmt.Sprintf("%s@%s", m.Text, m.At.Sub(t0)))
		}
		assert.Equal(t, []string{"1a@0s", "2a@0s", "1b@1s", "1c@2s"}, got)
	})
}

func TestRateAndWindowCap(t *testing.T) {
	cases := []struct {
		label string
		bulk  bool
		// most is the cap on the sends in any second, rate the pace
		most int
		rate float64
	}{
		{label: "replies", most: 28, rate: 28},
		{label: "bulk leaves the reserve to replies", bulk: true, most: 26, rate: 26},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			clock := newClock(t0)
			st := openStore(t, clock)
			var entries []store.OutboxEntry
			for i := range 100 {
				entries = append(entries, store.OutboxEntry{To: bot.MustParseAddress(fmt.Sprintf("telegram:%d", i)), Text: "x", Bulk: tc.bulk})
			}
			require.NoError(t, st.Enqueue(context.Background(), entries...))
			snd := newFakeSender("telegram", clock)
			limits := outbox.TelegramLimits()
			limits.Concurrency = 1 // the virtual clock only moves between sends
			start(t, newDispatcher(st, clock, []bot.Sender{snd}, outbox.WithLimits("telegram", limits)))
			snd.waitSent(t, 100)
			sent := snd.Sent()
			for i := range sent {
				j := i
				for j < len(sent) && sent[j].At.Sub(sent[i].At) < time.Second {
					j++
				}
				require.LessOrEqual(t, j-i, tc.most, "sends in the second from %s", sent[i].At.Sub(t0))
			}
			// over whole windows: the first and the last send of a full one are a second apart
			span := sent[len(sent)-1].At.Sub(sent[0].At).Seconds()
			assert.InDelta(t, tc.rate, float64(len(sent)-1)/span, 1, "%v a second", tc.rate)
		})
	}
}

func TestNoticesGoBeforeBulk(t *testing.T) {
	eachStore(t, func(t *testing.T, clock *vclock, st store.Backend) {
		snd := newFakeSender("telegram", clock)
		var entries []store.OutboxEntry
		for i := range 20 {
			entries = append(entries, store.OutboxEntry{To: bot.MustParseAddress(fmt.Sprintf("telegram:%d", i)), Text: "bulk", Bulk: true})
		}
		require.NoError(t, st.Enqueue(context.Background(), entries...))
		require.NoError(t, st.Enqueue(context.Background(), store.OutboxEntry{To: bot.MustParseAddress("telegram:99"), Text: "notice"}))
		d := newDispatcher(st, clock, []bot.Sender{snd}, outbox.WithLimits("telegram", outbox.Limits{Concurrency: 1}))
		start(t, d)
		snd.waitSent(t, 21)
		assert.Equal(t, "notice", snd.Sent()[0].Text)
	})
}

func TestThrottledPausesTheChannelAndResends(t *testing.T) {
	clock := newClock(t0)
	st := openStore(t, clock)
	snd := newFakeSender("telegram", clock)
	snd.before = jitter
	var calls atomic.Int32
	var throttledAt atomic.Value
	snd.behave = func(int, bot.Outgoing) error {
		if calls.Add(1) == 5 {
			throttledAt.Store(clock.Now())
			return fmt.Errorf("telegram: sendMessage to telegram:5: %w", &bot.ThrottledError{RetryAfter: 30 * time.Second})
		}
		return nil
	}
	var entries []store.OutboxEntry
	for i := range 20 {
		entries = append(entries, store.OutboxEntry{To: bot.MustParseAddress(fmt.Sprintf("telegram:%d", i)), Text: fmt.Sprint(i), Bulk: true})
	}
	require.NoError(t, st.Enqueue(context.Background(), entries...))
	d := newDispatcher(st, clock, []bot.Sender{snd}, outbox.WithLimits("telegram", outbox.Limits{Concurrency: 4}))
	stop := start(t, d)
	snd.waitSent(t, 20)
	stop()

	sent := snd.Sent()
	require.Len(t, sent, 20, "nothing dropped, nothing twice")
	texts := map[string]bool{}
	for _, m := range sent {
		texts[m.Text] = true
	}
	assert.Len(t, texts, 20)
	attempts := snd.Attempts()
	require.Len(t, attempts, 21)
	at := throttledAt.Load().(time.Time)
	for _, a := range attempts {
		if a.At.After(at) {
			assert.GreaterOrEqual(t, a.At.Sub(at), 30*time.Second, "the channel waits out retry_after")
		}
	}
	assert.Zero(t, depth(t, st))
}

func TestRecipientGoneIsCountedBlocked(t *testing.T) {
	clock := newClock(t0)
	st := openStore(t, clock)
	snd := newFakeSender("telegram", clock)
	snd.behave = func(_ int, msg bot.Outgoing) error {
		if msg.To.ID == "3" {
			return fmt.Errorf("telegram: sendMessage to %s: %w (Forbidden: bot was blocked by the user)", msg.To, bot.ErrRecipientGone)
		}
		return nil
	}
	b := &store.Broadcast{TextAR: "نداء"}
	require.NoError(t, st.CreateBroadcast(context.Background(), b))
	var entries []store.OutboxEntry
	for i := 1; i <= 10; i++ {
		entries = append(entries, store.OutboxEntry{To: bot.MustParseAddress(fmt.Sprintf("telegram:%d", i)), ContactID: uint64(i), Text: "نداء", Lang: "ar"})
	}
	require.NoError(t, st.QueueBroadcast(context.Background(), b.ID, entries))

	var mu sync.Mutex
	var goneAddrs []string
	var reports []store.Broadcast
	d := newDispatcher(st, clock, []bot.Sender{snd},
		outbox.WithLimits("telegram", outbox.Limits{Concurrency: 2}),
		outbox.WithReporter(reporter{
			gone: func(addr bot.Address) error {
				mu.Lock()
				defer mu.Unlock()
				goneAddrs = append(goneAddrs, addr.String())
				return nil
			},
			progress: func(id uint64) {
				got, err := st.Broadcast(context.Background(), id)
				assert.NoError(t, err)
				mu.Lock()
				defer mu.Unlock()
				reports = append(reports, *got)
			},
		}))
	stop := start(t, d)
	snd.waitSent(t, 9)
	stop()

	assert.Equal(t, []string{"telegram:3"}, goneAddrs)
	got, err := st.Broadcast(context.Background(), b.ID)
	require.NoError(t, err)
	assert.Equal(t, store.BroadcastDone, got.Status)
	assert.Equal(t, []int{9, 0, 1}, []int{got.Sent, got.Failed, got.Blocked})
	require.NotEmpty(t, reports)
	assert.Equal(t, *got, reports[len(reports)-1], "the last report shows the final counts")
	assert.Len(t, snd.Attempts(), 10, "a blocked address is not retried")
}

func TestTransientErrorsRetryThenFail(t *testing.T) {
	eachStore(t, func(t *testing.T, clock *vclock, st store.Backend) {
		snd := newFakeSender("telegram", clock)
		badGateway := errors.New("telegram: sendMessage to telegram:1: 502 Bad Gateway")
		snd.behave = func(n int, msg bot.Outgoing) error {
			switch {
			case msg.Text == "x1":
				return badGateway
			case msg.To.ID == "2" && n <= 2:
				return errors.New("telegram: sendMessage to telegram:2: connection reset")
			}
			return nil
		}
		b := &store.Broadcast{TextAR: "نداء"}
		require.NoError(t, st.CreateBroadcast(context.Background(), b))
		require.NoError(t, st.QueueBroadcast(context.Background(), b.ID, []store.OutboxEntry{
			{To: bot.MustParseAddress("telegram:1"), ContactID: 1, Text: "x1"},
			{To: bot.MustParseAddress("telegram:2"), ContactID: 2, Text: "y"},
			{To: bot.MustParseAddress("telegram:3"), ContactID: 3, Text: "z"},
		}))
		// a follow-up to the person whose first message keeps failing
		require.NoError(t, st.Enqueue(context.Background(), store.OutboxEntry{To: bot.MustParseAddress("telegram:1"), Text: "x2", Bulk: true}))

		d := newDispatcher(st, clock, []bot.Sender{snd}, outbox.WithLimits("telegram", outbox.Limits{Concurrency: 4}))
		stop := start(t, d)
		snd.waitSent(t, 3) // y, z, x2
		stop()

		var x1 []time.Time
		lastX1, x2 := -1, -1
		for i, a := range snd.Attempts() {
			switch a.Text {
			case "x1":
				x1 = append(x1, a.At)
				lastX1 = i
			case "x2":
				x2 = i
			}
		}
		require.Len(t, x1, 5, "tried five times")
		for i, want := range []time.Duration{15 * time.Second, time.Minute, 5 * time.Minute, 15 * time.Minute} {
			assert.GreaterOrEqual(t, x1[i+1].Sub(x1[i]), want, "backoff before attempt %d", i+2)
		}
		assert.Greater(t, x2, lastX1, "the follow-up waits until the first message is settled")

		got, err := st.Broadcast(context.Background(), b.ID)
		require.NoError(t, err)
		assert.Equal(t, []int{2, 1, 0}, []int{got.Sent, got.Failed, got.Blocked})
		assert.Contains(t, got.LastError, "502 Bad Gateway")
		assert.Equal(t, store.BroadcastDone, got.Status)
		assert.Zero(t, depth(t, st))
	})
}

func TestAtMostOnceDoesNotResendAStartedMessage(t *testing.T) {
	eachStore(t, func(t *testing.T, clock *vclock, st store.Backend) {
		b := &store.Broadcast{TextAR: "نداء"}
		require.NoError(t, st.CreateBroadcast(context.Background(), b))
		require.NoError(t, st.QueueBroadcast(context.Background(), b.ID, []store.OutboxEntry{
			{To: bot.MustParseAddress("whatsapp:1"), ContactID: 1, Text: "نداء"},
			{To: bot.MustParseAddress("whatsapp:2"), ContactID: 2, Text: "نداء"},
			{To: bot.MustParseAddress("whatsapp:3"), ContactID: 3, Text: "نداء"},
		}))
		// the previous process marked the first one and was killed while sending it
		pending, err := st.PendingOutbox(context.Background(), "whatsapp", true, 0, 10)
		require.NoError(t, err)
		require.NoError(t, st.OutboxStarted(context.Background(), pending[0].ID))

		snd := newFakeSender("whatsapp", clock)
		var markedBeforeSend atomic.Int32
		snd.before = func(msg bot.Outgoing) {
			entries, err := st.PendingOutbox(context.Background(), "whatsapp", true, 0, 10)
			assert.NoError(t, err)
			for _, e := range entries {
				if e.To == msg.To && !e.Started.IsZero() {
					markedBeforeSend.Add(1)
				}
			}
		}
		d := newDispatcher(st, clock, []bot.Sender{snd}, outbox.WithLimits("whatsapp", outbox.Limits{AtMostOnce: true, Concurrency: 1}))
		stop := start(t, d)
		snd.waitSent(t, 2)
		stop()

		var to []string
		for _, m := range snd.Sent() {
			to = append(to, m.To)
		}
		assert.Equal(t, []string{"whatsapp:2", "whatsapp:3"}, to)
		assert.Len(t, snd.Attempts(), 2, "the interrupted message is not sent again")
		assert.Equal(t, int32(2), markedBeforeSend.Load(), "each message is marked started before it is sent")
		got, err := st.Broadcast(context.Background(), b.ID)
		require.NoError(t, err)
		assert.Equal(t, []int{2, 1}, []int{got.Sent, got.Failed})
		assert.Equal(t, "interrupted", got.LastError)
		assert.Zero(t, depth(t, st))
	})
}

// horizonSignal wraps the clock's sleep to signal each sleep the horizon stops.
func horizonSignal(clock *vclock) (blocked chan struct{}, sleep func(context.Context, time.Duration) error) {
	blocked = make(chan struct{}, 100)
	return blocked, func(ctx context.Context, d time.Duration) error {
		clock.mu.Lock()
		past := !clock.horizon.IsZero() && clock.t.Add(d).After(clock.horizon)
		clock.mu.Unlock()
		if past {
			blocked <- struct{}{}
		}
		return clock.Sleep(ctx, d)
	}
}

func waitSignal(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestDailyCapPerCalendarDay(t *testing.T) {
	hebron, err := time.LoadLocation("Asia/Hebron")
	require.NoError(t, err)
	day1 := time.Date(2026, 3, 2, 10, 0, 0, 0, hebron)
	midnight := time.Date(2026, 3, 3, 0, 0, 0, 0, hebron)
	clock := newClock(day1)
	clock.horizon = midnight.Add(-time.Second)
	st := openStore(t, clock)
	var entries []store.OutboxEntry
	for i := range 5 {
		entries = append(entries, store.OutboxEntry{To: bot.MustParseAddress(fmt.Sprintf("whatsapp:%d", i)), Text: fmt.Sprint(i), Bulk: true})
	}
	require.NoError(t, st.Enqueue(context.Background(), entries...))
	require.NoError(t, st.Enqueue(context.Background(), store.OutboxEntry{To: bot.MustParseAddress("whatsapp:99"), Text: "notice"}))
	limits := outbox.WhatsAppLimits()
	limits.DailyCap = 3
	blocked, sleep := horizonSignal(clock)
	dispatcher := func(snd *fakeSender) *testDispatcher {
		return newDispatcher(st, clock, []bot.Sender{snd}, outbox.WithLimits("whatsapp", limits),
			outbox.WithLocation(hebron), outbox.WithSleep(sleep))
	}

	// day one: the notice and three bulk messages, 8 to 20 s apart
	snd := newFakeSender("whatsapp", clock)
	stop := start(t, dispatcher(snd))
	snd.waitSent(t, 4)
	waitSignal(t, blocked, "the wait for the next day")
	stop()
	sent := snd.Sent()
	require.Len(t, sent, 4)
	assert.Equal(t, "notice", sent[0].Text, "notices are not capped")
	for i := 2; i < 4; i++ {
		gap := sent[i].At.Sub(sent[i-1].At)
		assert.True(t, gap >= 8*time.Second && gap <= 20*time.Second, "gap %s", gap)
	}

	// restarted the same day: the cap counts the sends before the restart
	snd = newFakeSender("whatsapp", clock)
	stop = start(t, dispatcher(snd))
	waitSignal(t, blocked, "the wait for the next day after a restart")
	stop()
	assert.Empty(t, snd.Sent())

	// the next day the rest goes out
	clock.mu.Lock()
	clock.horizon = time.Time{}
	clock.mu.Unlock()
	snd = newFakeSender("whatsapp", clock)
	stop = start(t, dispatcher(snd))
	snd.waitSent(t, 2)
	stop()
	for _, m := range snd.Sent() {
		assert.False(t, m.At.Before(midnight), "sent at %s", m.At.In(hebron))
		assert.True(t, m.At.Before(midnight.Add(time.Minute)), "sent at %s", m.At.In(hebron))
	}
	assert.Zero(t, depth(t, st))
}

func TestGateHoldsAndKeepsOrder(t *testing.T) {
	clock := newClock(t0)
	quietUntil := t0.Add(time.Hour)
	// the clock stops short of the end of quiet hours until the test moves it
	clock.horizon = quietUntil.Add(-time.Second)
	st := openStore(t, clock)
	gate := func(now time.Time, e *store.OutboxEntry) time.Time {
		if e.Bulk && !e.Urgent && now.Before(quietUntil) {
			return quietUntil
		}
		return time.Time{}
	}
	require.NoError(t, st.Enqueue(context.Background(),
		store.OutboxEntry{To: bot.MustParseAddress("telegram:1"), Text: "a", Bulk: true},
		store.OutboxEntry{To: bot.MustParseAddress("telegram:1"), Text: "b", Bulk: true, Urgent: true},
		store.OutboxEntry{To: bot.MustParseAddress("telegram:2"), Text: "c", Bulk: true, Urgent: true},
		store.OutboxEntry{To: bot.MustParseAddress("telegram:3"), Text: "d"},
		store.OutboxEntry{To: bot.MustParseAddress("telegram:4"), Text: "e", Bulk: true},
	))
	blocked, sleep := horizonSignal(clock)
	snd := newFakeSender("telegram", clock)
	d := newDispatcher(st, clock, []bot.Sender{snd}, outbox.WithLimits("telegram", outbox.Limits{Concurrency: 4, PerChat: time.Second}),
		outbox.WithGate(gateFunc(gate)), outbox.WithSleep(sleep))
	start(t, d)
	snd.waitSent(t, 2)
	waitSignal(t, blocked, "the wait for the end of quiet hours")
	var texts []string
	for _, m := range snd.Sent() {
		texts = append(texts, m.Text)
	}
	assert.ElementsMatch(t, []string{"c", "d"}, texts, "urgent messages and notices go out in quiet hours")

	clock.mu.Lock()
	clock.horizon = time.Time{}
	clock.mu.Unlock()
	clock.Set(quietUntil)
	d.Wake()
	snd.waitSent(t, 5)
	sent := snd.Sent()
	texts = nil
	for _, m := range sent[2:] {
		texts = append(texts, m.Text)
		assert.False(t, m.At.Before(quietUntil))
	}
	assert.ElementsMatch(t, []string{"a", "b", "e"}, texts)
	assert.Less(t, slices.Index(texts, "a"), slices.Index(texts, "b"), "an urgent message does not overtake a held one to the same person")
}

func TestPauseUntilWake(t *testing.T) {
	clock := newClock(t0)
	clock.horizon = t0.Add(30 * time.Minute)
	st := openStore(t, clock)
	var paused atomic.Bool
	paused.Store(true)
	gate := func(now time.Time, _ *store.OutboxEntry) time.Time {
		if paused.Load() {
			return now.Add(time.Hour)
		}
		return time.Time{}
	}
	blocked, sleep := horizonSignal(clock)
	snd := newFakeSender("telegram", clock)
	d := newDispatcher(st, clock, []bot.Sender{snd}, outbox.WithGate(gateFunc(gate)), outbox.WithSleep(sleep))
	start(t, d)
	require.NoError(t, st.Enqueue(context.Background(), store.OutboxEntry{To: bot.MustParseAddress("telegram:1"), Text: "a"}, store.OutboxEntry{To: bot.MustParseAddress("telegram:2"), Text: "b", Bulk: true}))
	d.Wake()
	waitSignal(t, blocked, "the paused dispatcher to wait")
	assert.Empty(t, snd.Sent())

	paused.Store(false)
	d.Wake()
	snd.waitSent(t, 2)
}

func TestCleanStopLeavesNoDuplicate(t *testing.T) {
	eachStore(t, func(t *testing.T, clock *vclock, st store.Backend) {
		var entries []store.OutboxEntry
		for i := range 50 {
			entries = append(entries, store.OutboxEntry{To: bot.MustParseAddress(fmt.Sprintf("telegram:%d", i)), Text: fmt.Sprint(i), Bulk: true})
		}
		require.NoError(t, st.Enqueue(context.Background(), entries...))

		release := make(chan struct{})
		entered := make(chan struct{}, 100)
		var n atomic.Int32
		snd := newFakeSender("telegram", clock)
		snd.before = func(bot.Outgoing) {
			if n.Add(1) > 10 {
				entered <- struct{}{}
				<-release
			}
		}
		d := newDispatcher(st, clock, []bot.Sender{snd}, outbox.WithLimits("telegram", outbox.Limits{Concurrency: 8}))
		stop := start(t, d)
		for range 8 {
			waitSignal(t, entered, "sends in flight")
		}
		stopped := make(chan struct{})
		go func() {
			stop()
			close(stopped)
		}()
		select {
		case <-stopped:
			t.Fatal("Run returned with sends in flight")
		case <-time.After(20 * time.Millisecond):
		}
		close(release)
		waitSignal(t, stopped, "Run to return")
		assert.Len(t, snd.Sent(), 18, "the sends in flight finished")
		assert.Equal(t, 32, depth(t, st), "and were recorded")
		assert.True(t, unclaimed(t, st, "telegram"), "and left no claim behind")

		snd2 := newFakeSender("telegram", clock)
		start(t, newDispatcher(st, clock, []bot.Sender{snd2}))
		snd2.waitSent(t, 32)
		count := map[string]int{}
		for _, m := range append(snd.Sent(), snd2.Sent()...) {
			count[m.Text]++
		}
		assert.Len(t, count, 50)
		for text, c := range count {
			assert.Equal(t, 1, c, "message %s", text)
		}
	})
}

func TestCancelledBroadcastStopsSending(t *testing.T) {
	eachStore(t, func(t *testing.T, clock *vclock, st store.Backend) {
		b := &store.Broadcast{TextAR: "نداء"}
		require.NoError(t, st.CreateBroadcast(context.Background(), b))
		var entries []store.OutboxEntry
		for i := 1; i <= 20; i++ {
			entries = append(entries, store.OutboxEntry{To: bot.MustParseAddress(fmt.Sprintf("telegram:%d", i)), ContactID: uint64(i), Text: "نداء"})
		}
		require.NoError(t, st.QueueBroadcast(context.Background(), b.ID, entries))
		release := make(chan struct{})
		entered := make(chan struct{}, 100)
		snd := newFakeSender("telegram", clock)
		var n atomic.Int32
		snd.before = func(bot.Outgoing) {
			if n.Add(1) == 4 {
				entered <- struct{}{}
				<-release
			}
		}
		d := newDispatcher(st, clock, []bot.Sender{snd}, outbox.WithLimits("telegram", outbox.Limits{Concurrency: 1}))
		stop := start(t, d)
		waitSignal(t, entered, "the fourth send")
		removed, err := st.CancelBroadcast(context.Background(), b.ID)
		require.NoError(t, err)
		assert.Equal(t, 17, removed)
		close(release)
		require.NoError(t, st.Enqueue(context.Background(), store.OutboxEntry{To: bot.MustParseAddress("telegram:99"), Text: "after"}))
		d.Wake()
		snd.waitFor(t, "the notice", func() bool { return slices.ContainsFunc(snd.Sent(), func(m sentMsg) bool { return m.Text == "after" }) })
		stop()
		assert.Len(t, snd.Sent(), 5, "three sent, one in flight at the cancel, then the notice")
	})
}

func TestNotify(t *testing.T) {
	clock := newClock(t0)
	st := openStore(t, clock)
	contact := func(raw []string, set func(*store.Contact)) uint64 {
		var addrs []bot.Address
		for _, a := range raw {
			addrs = append(addrs, bot.MustParseAddress(a))
		}
		c, _, err := st.EnsureContact(context.Background(), addrs[0], "", "")
		require.NoError(t, err)
		_, err = st.UpdateContact(context.Background(), c.ID, func(c *store.Contact) error {
			c.Addresses = addrs
			set(c)
			return nil
		})
		require.NoError(t, err)
		return c.ID
	}
	amal := contact([]string{"telegram:1"}, func(c *store.Contact) { c.Consent, c.Lang = true, "en" })
	basel := contact([]string{"telegram:2"}, func(c *store.Contact) { c.Lang = "ar" })
	stopped := contact([]string{"telegram:5"}, func(c *store.Contact) { c.Consent, c.Stopped = true, true })
	// prefers WhatsApp, which is not configured here
	dana := contact([]string{"whatsapp:3", "console:dana"}, func(c *store.Contact) { c.Consent, c.PreferredChannel = true, "whatsapp" })
	gone := contact([]string{"telegram:4"}, func(c *store.Contact) {
		c.Consent = true
		c.Unreachable = map[bot.Address]time.Time{bot.MustParseAddress("telegram:4"): t0}
	})

	render := func(lang string) (string, [][]bot.Button) {
		return "hello " + lang, [][]bot.Button{{{Text: "OK " + lang, Payload: "m:1:ok"}}}
	}
	tg, con := newFakeSender("telegram", clock), newFakeSender("console", clock)
	d := newDispatcher(st, clock, []bot.Sender{tg, con})
	start(t, d)
	require.NoError(t, d.q.Notify(context.Background(), []outbox.Notice{
		{ContactID: amal, Kind: "target_reached", RequireConsent: true, Render: render},
		{ContactID: basel, Kind: "target_reached", RequireConsent: true, Render: render}, // no consent: dropped
		{ContactID: stopped, Kind: "target_reached", RequireConsent: true, Render: render},
		{ContactID: basel, Kind: "institution_decided", Render: render}, // asked for it: goes
		{ContactID: dana, Kind: "role_changed", Render: render},
		{ContactID: gone, Kind: "role_changed", Render: render},
		{ContactID: 999, Kind: "role_changed", Render: render},
	}...))
	tg.waitSent(t, 2)
	con.waitSent(t, 1)

	got := map[string]bot.Outgoing{}
	for _, m := range append(tg.Sent(), con.Sent()...) {
		got[m.To] = m.Msg
	}
	assert.Len(t, got, 3)
	assert.Equal(t, bot.Outgoing{To: bot.Address{Channel: "telegram", ID: "1"}, Text: "hello en", Lang: "en",
		Buttons: [][]bot.Button{{{Text: "OK en", Payload: "m:1:ok"}}}}, got["telegram:1"])
	assert.Equal(t, "hello ar", got["telegram:2"].Text)
	assert.Equal(t, "hello ar", got["console:dana"].Text, "no language yet: Arabic")
}

func TestLimits(t *testing.T) {
	q := outbox.NewQueue(nil)
	d := outbox.NewDispatcher(q, nil)
	tg, wa := d.Limits("telegram"), d.Limits("whatsapp")
	assert.Equal(t, 28, tg.WindowCap)
	assert.Equal(t, 3, tg.ChatBurst)
	assert.True(t, tg.IsGroup(bot.MustParseAddress("telegram:-100123")))
	assert.False(t, tg.IsGroup(bot.MustParseAddress("telegram:100123")))
	assert.Equal(t, outbox.WhatsAppLimits(), wa)
	assert.Equal(t, 1, d.Limits("console").Concurrency)
	d = outbox.NewDispatcher(q, nil, outbox.WithLimits("telegram", outbox.TelegramPaidLimits()))
	assert.Equal(t, 960, d.Limits("telegram").WindowCap)

	assert.Equal(t, time.Duration(0), outbox.TelegramLimits().Estimate(0))
	// bulk messages leave two of the 28 a second to replies
	assert.InDelta(t, (1000 * time.Second / 26).Seconds(), outbox.TelegramLimits().Estimate(1000).Seconds(), 0.1)
	// WhatsApp: 14 s on average, 200 a day
	assert.Equal(t, 100*14*time.Second, outbox.WhatsAppLimits().Estimate(100))
	assert.Equal(t, 2*24*time.Hour+50*14*time.Second, outbox.WhatsAppLimits().Estimate(450))
}

// downSender fails every send with bot.ErrChannelDown until it is told to work.
type downSender struct {
	mu    sync.Mutex
	down  bool
	sent  []string
	tries int
}

func (s *downSender) Name() bot.ChannelName { return "whatsapp" }

func (s *downSender) Send(_ context.Context, msg bot.Outgoing) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tries++
	if s.down {
		return "", fmt.Errorf("whatsapp sending blocked: %w", bot.ErrChannelDown)
	}
	s.sent = append(s.sent, msg.To.ID)
	return fmt.Sprint(len(s.sent)), nil
}

func (s *downSender) counts() (tries, sent int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tries, len(s.sent)
}

func TestChannelDownStopsUntilResumedAndLosesNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, clock *vclock, st store.Backend) {
		// the stop lasts until Resume, so sleeping toward its end must block, not jump the clock
		clock.horizon = t0.Add(48 * time.Hour)
		snd := &downSender{down: true}
		d := newDispatcher(st, clock, []bot.Sender{snd}, outbox.WithLimits("whatsapp", outbox.Limits{AtMostOnce: true, Concurrency: 1}))
		for i := range 3 {
			require.NoError(t, st.Enqueue(context.Background(), store.OutboxEntry{To: bot.MustParseAddress(fmt.Sprintf("whatsapp:97059900000%d", i)), Text: "hi"}))
		}
		start(t, d)
		require.Eventually(t, func() bool { tries, _ := snd.counts(); return tries >= 1 }, 10*time.Second, time.Millisecond)
		// the refused message is not left claimed: once resumed, it goes at once from any instance
		require.Eventually(t, func() bool { return unclaimed(t, st, "whatsapp") }, 10*time.Second, time.Millisecond)

		// a day passes and new messages are queued: a channel that is down is not tried again
		clock.Set(t0.Add(24 * time.Hour))
		require.NoError(t, st.Enqueue(context.Background(), store.OutboxEntry{To: bot.MustParseAddress("whatsapp:970599000009"), Text: "later"}))
		d.Wake()
		time.Sleep(100 * time.Millisecond) // room for a wrong send to happen
		tries, _ := snd.counts()
		assert.Equal(t, 1, tries, "not tried again until resumed")
		assert.Equal(t, 4, depth(t, st), "nothing is lost or counted failed")

		snd.mu.Lock()
		snd.down = false
		snd.mu.Unlock()
		d.Resume()
		require.Eventually(t, func() bool { _, sent := snd.counts(); return sent == 4 }, 10*time.Second, time.Millisecond)
		require.Eventually(t, func() bool { return depth(t, st) == 0 }, 10*time.Second, time.Millisecond)
	})
}
