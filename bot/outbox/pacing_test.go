package outbox_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/outbox"
	"mobilise/store"
)

// TestReplyDoesNotWaitBehindABroadcast stops the virtual clock while a
// broadcast is being sent at Telegram's pace, with the dispatcher waiting
// for its next bulk token, and queues a reply: letting the clock run no
// further than Limits.Spacing is enough for it to go, ahead of every bulk
// message after it (bulk leaves Limits.Reserve of the bucket and the
// window to replies, and the dispatcher waits for a token before it
// chooses what to send).
func TestReplyDoesNotWaitBehindABroadcast(t *testing.T) {
	clock := newClock(t0)
	st := openStore(t, clock)
	var entries []store.OutboxEntry
	for i := range 60 {
		entries = append(entries, store.OutboxEntry{To: bot.MustParseAddress(fmt.Sprintf("telegram:%d", 100+i)), Text: "bulk", Bulk: true})
	}
	require.NoError(t, st.Enqueue(context.Background(), entries...))
	snd := newFakeSender("telegram", clock)
	limits := outbox.TelegramLimits()
	limits.Concurrency = 1 // the virtual clock only moves between sends
	blocked, sleep := horizonSignal(clock)
	setHorizon := func(h time.Time) {
		clock.mu.Lock()
		clock.horizon = h
		clock.mu.Unlock()
	}
	setHorizon(t0.Add(700 * time.Millisecond))
	d := newDispatcher(st, clock, []bot.Sender{snd}, outbox.WithLimits("telegram", limits), outbox.WithSleep(sleep))
	start(t, d)
	waitSignal(t, blocked, "the broadcast to wait for its next token")
	before := len(snd.Sent())
	require.Positive(t, before)

	queued := clock.Now()
	setHorizon(queued.Add(limits.Spacing))
	require.NoError(t, d.q.Reply(context.Background(), bot.Outgoing{To: bot.MustParseAddress("telegram:1"), Text: "answer"}))
	snd.waitFor(t, "the answer, with the clock let run for the spacing only", func() bool {
		return slices.ContainsFunc(snd.Sent(), func(m sentMsg) bool { return m.Text == "answer" })
	})
	setHorizon(time.Time{})
	d.Wake()
	snd.waitSent(t, 61)

	sent := snd.Sent()
	i := slices.IndexFunc(sent, func(m sentMsg) bool { return m.Text == "answer" })
	assert.Equal(t, before, i, "the answer goes right after the bulk messages sent before it was queued")
	assert.LessOrEqual(t, sent[i].At.Sub(queued), limits.Spacing, "the answer waited at most the spacing")
	for j := 1; j < len(sent); j++ {
		assert.GreaterOrEqual(t, sent[j].At.Sub(sent[j-1].At), limits.Spacing, "sends %d and %d", j-1, j)
	}
}

// TestGroupPace asks the pacer for 40 messages to one group at Telegram's
// limits, each as soon as it allows: a burst of three, then one every
// 3.6 s, so never more than 19 in a minute (Telegram allows 20). A private
// chat keeps its own pace meanwhile.
func TestGroupPace(t *testing.T) {
	p := outbox.NewPacer(nil, bot.Telegram, outbox.TelegramLimits())
	group, person := bot.MustParseAddress("telegram:-100123"), bot.MustParseAddress("telegram:100123")
	now := t0
	var at []time.Time
	for range 40 {
		now = now.Add(p.ChatWait(group, now))
		p.ChatTake(group, now)
		at = append(at, now)
		assert.Zero(t, p.ChatWait(person, now), "a private chat is not held by the group")
		p.ChatTake(person, now.Add(-time.Hour))
	}
	most := 0
	for i := range at {
		j := i
		for j < len(at) && at[j].Sub(at[i]) <= time.Minute {
			j++
		}
		most = max(most, j-i)
	}
	assert.Equal(t, 19, most, "messages in any minute")
	assert.Equal(t, at[0], at[2], "a burst of three")
	assert.InDelta(t, 3.6, at[10].Sub(at[9]).Seconds(), 0.01, "then one every 3.6 s")
}

// TestPacerWaitsOutAThrottleFromBeforeTheRestart starts a new pacer on a
// store holding a 429's deadline: its very first Wait, before any
// dispatcher has loaded anything, lasts until the deadline.
func TestPacerWaitsOutAThrottleFromBeforeTheRestart(t *testing.T) {
	clock := newClock(t0)
	st := openStore(t, clock)
	until := t0.Add(45 * time.Second)
	require.NoError(t, st.SetThrottledUntil(context.Background(), bot.Telegram, until))

	p := outbox.NewPacer(st, bot.Telegram, outbox.TelegramLimits(), outbox.PacerClock(clock.Now, clock.Sleep))
	require.NoError(t, p.Wait(context.Background()))
	assert.False(t, clock.Now().Before(until), "waited until %v, now %v", until, clock.Now())
	assert.Equal(t, until, p.PausedUntil())

	// a 429 now is kept for the next process in turn
	p.Throttled(10 * time.Second)
	got, err := st.ThrottledUntil(context.Background(), bot.Telegram)
	require.NoError(t, err)
	assert.Equal(t, clock.Now().Add(10*time.Second), got)
}

// TestAtMostOnceIsForBulkOnly has a previous process killed while it sent
// a broadcast message and a reply on an AtMostOnce channel (WhatsApp):
// the broadcast message is not sent again, the reply is.
func TestAtMostOnceIsForBulkOnly(t *testing.T) {
	clock := newClock(t0)
	st := openStore(t, clock)
	b := &store.Broadcast{TextAR: "نداء"}
	require.NoError(t, st.CreateBroadcast(context.Background(), b))
	require.NoError(t, st.QueueBroadcast(context.Background(), b.ID, []store.OutboxEntry{
		{To: bot.MustParseAddress("whatsapp:1"), ContactID: 1, Text: "نداء"},
	}))
	require.NoError(t, st.Enqueue(context.Background(), store.OutboxEntry{To: bot.MustParseAddress("whatsapp:2"), Text: "answer", Kind: store.KindReply}))
	for _, bulk := range []bool{true, false} {
		pending, err := st.PendingOutbox(context.Background(), bot.WhatsApp, bulk, 0, 10)
		require.NoError(t, err)
		require.Len(t, pending, 1)
		require.NoError(t, st.OutboxStarted(context.Background(), pending[0].ID))
	}

	snd := newFakeSender("whatsapp", clock)
	d := newDispatcher(st, clock, []bot.Sender{snd}, outbox.WithLimits("whatsapp", outbox.Limits{AtMostOnce: true, Concurrency: 1}))
	stop := start(t, d)
	// both lanes are read before anything is sent: the broadcast message is settled by now
	snd.waitSent(t, 1)
	stop()
	assert.Zero(t, depth(t, st))

	sent := snd.Sent()
	require.Len(t, sent, 1)
	assert.Equal(t, "answer", sent[0].Text, "the interrupted reply is sent again")
	got, err := st.Broadcast(context.Background(), b.ID)
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1}, []int{got.Sent, got.Failed}, "the interrupted broadcast message is not")
	assert.Equal(t, "interrupted", got.LastError)
}
