package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"mobilise/bot"
	"mobilise/store"

	"github.com/stretchr/testify/require"
)

// TestListenOutbox has a dispatcher wait on the outbox: it is woken, with
// the channel's name, when entries are queued and their transaction
// commits, not by a transaction that rolls back, and not before the
// commit.
func TestListenOutbox(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	l, err := s.ListenOutbox(ctx)
	require.NoError(t, err)
	defer func() { require.NoError(t, l.Close()) }()

	woken := make(chan bot.ChannelName, 10)
	waitCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		for {
			ch, err := l.Wait(waitCtx)
			if err != nil {
				done <- err
				return
			}
			woken <- ch
		}
	}()

	// a rolled-back unit of work wakes no one; the commit of one does, after it commits
	boom := errors.New("boom")
	require.ErrorIs(t, s.InTx(ctx, func(ctx context.Context) error {
		if err := s.Enqueue(ctx, store.OutboxEntry{To: bot.MustParseAddress("telegram:1"), Text: "never"}); err != nil {
			return err
		}
		return boom
	}), boom)
	require.NoError(t, s.InTx(ctx, func(ctx context.Context) error {
		if err := s.Enqueue(ctx, store.OutboxEntry{To: bot.MustParseAddress("whatsapp:9701"), Text: "hi"}); err != nil {
			return err
		}
		select {
		case ch := <-woken:
			t.Errorf("woken for %s before the commit", ch)
		case <-time.After(100 * time.Millisecond):
		}
		return nil
	}))
	select {
	case ch := <-woken:
		require.Equal(t, bot.WhatsApp, ch, "the rolled-back telegram entry woke no one")
	case <-time.After(10 * time.Second):
		t.Fatal("the listener was not woken")
	}

	// a broadcast's chunk wakes each of its channels once
	bc := &store.Broadcast{TextAR: "نداء"}
	require.NoError(t, s.CreateBroadcast(ctx, bc))
	entries := []store.OutboxEntry{
		{To: bot.MustParseAddress("telegram:1"), ContactID: 1, Text: "نداء"},
		{To: bot.MustParseAddress("telegram:2"), ContactID: 2, Text: "نداء"},
		{To: bot.MustParseAddress("whatsapp:9703"), ContactID: 3, Text: "نداء"},
	}
	require.NoError(t, s.QueueBroadcast(ctx, bc.ID, entries))
	got := map[bot.ChannelName]int{}
	for range 2 {
		select {
		case ch := <-woken:
			got[ch]++
		case <-time.After(10 * time.Second):
			t.Fatalf("woken for %v only", got)
		}
	}
	require.Equal(t, map[bot.ChannelName]int{bot.Telegram: 1, bot.WhatsApp: 1}, got)

	stop()
	require.ErrorIs(t, <-done, context.Canceled, "Wait returns when its context ends")
}

// TestClaimsAcrossInstances runs two instances on one database: the
// entries one instance claimed and never acknowledged (it died) are not
// taken by the other until the lease runs out, and then are.
func TestClaimsAcrossInstances(t *testing.T) {
	c := &clock{now: time.Now().UTC()}
	a, url := openTest(t, WithNow(c.read))
	ctx := context.Background()
	b, err := Open(ctx, url, WithNow(c.read))
	require.NoError(t, err)
	defer b.Close()

	var entries []store.OutboxEntry
	for i := range 6 {
		entries = append(entries, store.OutboxEntry{To: bot.MustParseAddress(fmt.Sprintf("telegram:%d", i+1)), Text: "x"})
	}
	require.NoError(t, a.Enqueue(ctx, entries...))
	held, err := a.ClaimOutbox(ctx, bot.Telegram, false, 4, 30*time.Second)
	require.NoError(t, err)
	require.Len(t, held, 4)
	require.NoError(t, a.OutboxDone(ctx, held[0].ID))
	a.Close() // the instance dies holding three claims

	rest, err := b.ClaimOutbox(ctx, bot.Telegram, false, 10, 30*time.Second)
	require.NoError(t, err)
	require.Equal(t, []uint64{entries[4].ID, entries[5].ID}, []uint64{rest[0].ID, rest[1].ID})
	require.Len(t, rest, 2)
	c.advance(31 * time.Second)
	back, err := b.ClaimOutbox(ctx, bot.Telegram, false, 10, 30*time.Second)
	require.NoError(t, err)
	require.Len(t, back, 5, "the dead instance's three and the two whose leases b let run out")
	require.Equal(t, held[1].ID, back[0].ID)
}

// TestConnectionLostMidTransaction kills the server process of a unit of
// work that has queued messages, before it commits, as the death of its
// instance would: nothing it wrote is queued, no listener is woken, and
// the store goes on working on its other connections.
func TestConnectionLostMidTransaction(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	l, err := s.ListenOutbox(ctx)
	require.NoError(t, err)
	defer func() { require.NoError(t, l.Close()) }()
	err = s.InTx(ctx, func(ctx context.Context) error {
		if err := s.Enqueue(ctx, store.OutboxEntry{To: bot.MustParseAddress("telegram:1"), Text: "lost"}); err != nil {
			return err
		}
		var pid int32
		if err := s.joined(ctx).tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			return err
		}
		var killed bool
		if err := s.pool.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, pid).Scan(&killed); err != nil {
			return err
		}
		require.True(t, killed)
		return nil
	})
	require.Error(t, err, "the commit cannot succeed on a killed connection")
	pending, err := s.PendingOutbox(ctx, bot.Telegram, false, 0, 10)
	require.NoError(t, err)
	require.Empty(t, pending)
	waitCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = l.Wait(waitCtx)
	require.ErrorIs(t, err, context.DeadlineExceeded, "no one is woken for what was never committed")
	require.NoError(t, s.Enqueue(ctx, store.OutboxEntry{To: bot.MustParseAddress("telegram:1"), Text: "kept"}))
	pending, err = s.PendingOutbox(ctx, bot.Telegram, false, 0, 10)
	require.NoError(t, err)
	require.Len(t, pending, 1)
}

// TestClaimOutboxEntry claims single entries as a dispatcher does before
// each send: a claim excludes every other claim, of an entry or of a page,
// until it is renewed, released, or its entry rescheduled, or its lease
// runs out; an entry not yet due is claimed by no one.
func TestClaimOutboxEntry(t *testing.T) {
	c := &clock{now: time.Now().UTC()}
	s, _ := openTest(t, WithNow(c.read))
	ctx := context.Background()
	const lease = time.Minute
	entries := []store.OutboxEntry{
		{To: bot.MustParseAddress("telegram:1"), Text: "a"},
		{To: bot.MustParseAddress("telegram:2"), Text: "b"},
	}
	require.NoError(t, s.Enqueue(ctx, entries...))
	id := entries[0].ID

	held, ok, err := s.ClaimOutboxEntry(ctx, id, time.Time{}, lease)
	require.NoError(t, err)
	require.True(t, ok)
	require.WithinDuration(t, c.read().Add(lease), held, time.Second)
	until, ok, err := s.ClaimOutboxEntry(ctx, id, time.Time{}, lease)
	require.NoError(t, err)
	require.False(t, ok, "claimed once at a time")
	require.True(t, until.Equal(held), "held until the claim's lease: %v, want %v", until, held)
	page, err := s.ClaimOutbox(ctx, bot.Telegram, false, 10, lease)
	require.NoError(t, err)
	require.Len(t, page, 1, "a page claim skips it")
	require.Equal(t, entries[1].ID, page[0].ID)

	// the holder renews its claim with its lease_until; a wrong one neither renews nor releases
	c.advance(30 * time.Second)
	renewed, ok, err := s.ClaimOutboxEntry(ctx, id, held, lease)
	require.NoError(t, err)
	require.True(t, ok, "renewed by its holder")
	require.True(t, renewed.After(held))
	_, ok, err = s.ClaimOutboxEntry(ctx, id, held, lease)
	require.NoError(t, err)
	require.False(t, ok, "the old lease_until no longer holds it")
	require.NoError(t, s.ReleaseOutboxEntry(ctx, id, held))
	_, ok, err = s.ClaimOutboxEntry(ctx, id, time.Time{}, lease)
	require.NoError(t, err)
	require.False(t, ok, "released only by its holder")
	c.advance(45 * time.Second)
	_, ok, err = s.ClaimOutboxEntry(ctx, id, time.Time{}, lease)
	require.NoError(t, err)
	require.False(t, ok, "the renewal counts from when it was made")

	// released, it is free at once
	require.NoError(t, s.ReleaseOutboxEntry(ctx, id, renewed))
	held, ok, err = s.ClaimOutboxEntry(ctx, id, time.Time{}, lease)
	require.NoError(t, err)
	require.True(t, ok, "free once released")

	// a retry ends the claim and holds the entry until its time, for everyone
	notBefore := c.read().Add(time.Hour).Truncate(time.Microsecond)
	require.NoError(t, s.OutboxRetry(ctx, id, notBefore, "timeout"))
	until, ok, err = s.ClaimOutboxEntry(ctx, id, held, lease)
	require.NoError(t, err)
	require.False(t, ok, "not due, even for the claim the retry ended")
	require.True(t, until.Equal(notBefore), "not before %v, got %v", notBefore, until)
	c.advance(time.Hour)
	held, ok, err = s.ClaimOutboxEntry(ctx, id, time.Time{}, lease)
	require.NoError(t, err)
	require.True(t, ok, "due again")

	// a claim whose holder died runs out
	c.advance(lease)
	_, ok, err = s.ClaimOutboxEntry(ctx, id, time.Time{}, lease)
	require.NoError(t, err)
	require.True(t, ok, "taken again after the lease")

	// a sent entry is gone; releasing it is no error
	require.NoError(t, s.OutboxDone(ctx, id))
	_, _, err = s.ClaimOutboxEntry(ctx, id, time.Time{}, lease)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.NoError(t, s.ReleaseOutboxEntry(ctx, id, held))
	_, _, err = s.ClaimOutboxEntry(ctx, entries[1].ID, time.Time{}, 0)
	require.Error(t, err, "a claim needs a lease")
}
