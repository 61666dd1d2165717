package conform

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mobilise/store"

	"github.com/stretchr/testify/require"
)

// RemindersBackend is a Backend that keeps reminders and fires their slots.
type RemindersBackend interface {
	Backend
	CreateReminder(ctx context.Context, r *store.Reminder) error
	Reminders(ctx context.Context) ([]store.Reminder, error)
	Reminder(ctx context.Context, id uint64) (*store.Reminder, error)
	DeleteReminder(ctx context.Context, id uint64) error
	DueReminders(ctx context.Context, now time.Time) ([]store.Reminder, error)
	ClaimReminder(ctx context.Context, id uint64, slot, next time.Time, entries []store.OutboxEntry) (bool, error)
	ClaimReminderAsBroadcast(ctx context.Context, id uint64, slot, next time.Time, b *store.Broadcast) (bool, error)
	MarkReminderMissed(ctx context.Context, id uint64, slot, next time.Time, entries ...store.OutboxEntry) error
	UpdateReminder(ctx context.Context, id uint64, fn func(*store.Reminder) error) (*store.Reminder, error)
}

// RunReminders runs the tests of reminders, each on a new backend.
func RunReminders(t *testing.T, open func(t *testing.T) RemindersBackend) {
	t.Run("Reminders", func(t *testing.T) { testReminders(t, open(t)) })
	t.Run("DueOrder", func(t *testing.T) { testDueOrder(t, open(t)) })
	t.Run("ClaimReminder", func(t *testing.T) { testClaimReminder(t, open(t)) })
	t.Run("ConcurrentClaimReminder", func(t *testing.T) { testConcurrentClaimReminder(t, open(t)) })
	t.Run("ConcurrentClaimReminderAsBroadcast", func(t *testing.T) { testConcurrentClaimAsBroadcast(t, open(t)) })
	t.Run("MarkReminderMissed", func(t *testing.T) { testMarkReminderMissed(t, open(t)) })
	t.Run("UpdateReminder", func(t *testing.T) { testUpdateReminder(t, open(t)) })
}

// t0 is the suite's reference time for reminders.
var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func everyone() store.Audience { return store.Audience{Kind: store.AudienceEveryone} }

func testReminders(t *testing.T, b RemindersBackend) {
	once := &store.Reminder{TextAR: "تذكير", Audience: everyone(), At: t0.Add(time.Hour), Kind: store.ReminderCustom, CreatedBy: 3}
	require.NoError(t, b.CreateReminder(ctx, once))
	require.NotZero(t, once.ID)
	require.Equal(t, t0.Add(time.Hour), once.NextFireAt, "a one-off fires at At")
	require.False(t, once.CreatedAt.IsZero())
	weekly := &store.Reminder{TextAR: "كل جمعة", Audience: store.Audience{Kind: store.AudienceMembers}, Spec: "0 10 * * 5",
		NextFireAt: t0.Add(30 * time.Minute).In(time.FixedZone("Asia/Gaza", 2*3600)), Kind: store.ReminderCustom,
		CreatedAt: t0.Add(-time.Hour)}
	require.NoError(t, b.CreateReminder(ctx, weekly))
	require.Greater(t, weekly.ID, once.ID)
	require.Equal(t, time.UTC, weekly.NextFireAt.Location(), "times are kept in UTC")
	require.Equal(t, t0.Add(-time.Hour), weekly.CreatedAt, "a CreatedAt given is kept")

	require.Error(t, b.CreateReminder(ctx, &store.Reminder{TextAR: "x", Audience: everyone()}), "no time")
	require.Error(t, b.CreateReminder(ctx, &store.Reminder{TextAR: "x", At: t0}), "no audience")

	all, err := b.Reminders(ctx)
	require.NoError(t, err)
	require.Len(t, all, 2, "the refused ones were not stored")
	require.Equal(t, *once, all[0])
	require.Equal(t, *weekly, all[1])
	got, err := b.Reminder(ctx, weekly.ID)
	require.NoError(t, err)
	require.Equal(t, *weekly, *got)

	due, err := b.DueReminders(ctx, t0.Add(29*time.Minute))
	require.NoError(t, err)
	require.Empty(t, due)
	due, err = b.DueReminders(ctx, t0.Add(2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []uint64{weekly.ID, once.ID}, reminderIDs(due), "earliest first")

	require.NoError(t, b.DeleteReminder(ctx, once.ID))
	require.ErrorIs(t, b.DeleteReminder(ctx, once.ID), store.ErrNotFound)
	_, err = b.Reminder(ctx, once.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	due, err = b.DueReminders(ctx, t0.Add(2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []uint64{weekly.ID}, reminderIDs(due))
}

func reminderIDs(rs []store.Reminder) []uint64 {
	out := []uint64{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

// testDueOrder: reminders due within one second are listed by ID, and one
// due later within the second now is in is not due yet.
func testDueOrder(t *testing.T, b RemindersBackend) {
	late := &store.Reminder{TextAR: "a", Audience: everyone(), At: t0.Add(900 * time.Millisecond)}
	early := &store.Reminder{TextAR: "b", Audience: everyone(), At: t0.Add(100 * time.Millisecond)}
	before := &store.Reminder{TextAR: "c", Audience: everyone(), At: t0.Add(-time.Second)}
	for _, r := range []*store.Reminder{late, early, before} {
		require.NoError(t, b.CreateReminder(ctx, r))
	}
	due, err := b.DueReminders(ctx, t0.Add(500*time.Millisecond))
	require.NoError(t, err)
	require.Equal(t, []uint64{before.ID, early.ID}, reminderIDs(due))
	due, err = b.DueReminders(ctx, t0.Add(900*time.Millisecond))
	require.NoError(t, err)
	require.Equal(t, []uint64{before.ID, late.ID, early.ID}, reminderIDs(due), "by second, then by ID")
}

func reminderEntry(text string) []store.OutboxEntry {
	return []store.OutboxEntry{{To: addr("telegram:1"), Text: text}}
}

func testClaimReminder(t *testing.T, b RemindersBackend) {
	daily := &store.Reminder{TextAR: "يومي", Audience: everyone(), Spec: "0 10 * * *", NextFireAt: t0.Add(time.Hour)}
	require.NoError(t, b.CreateReminder(ctx, daily))
	once := &store.Reminder{TextAR: "مرة", Audience: everyone(), At: t0.Add(90 * time.Minute)}
	require.NoError(t, b.CreateReminder(ctx, once))
	slot := daily.NextFireAt

	ok, err := b.ClaimReminder(ctx, daily.ID, slot.Add(time.Second), slot.Add(24*time.Hour), reminderEntry("x"))
	require.NoError(t, err)
	require.False(t, ok, "not the slot it waits for")
	entries := reminderEntry("يومي")
	ok, err = b.ClaimReminder(ctx, daily.ID, slot, slot.Add(24*time.Hour), entries)
	require.NoError(t, err)
	require.True(t, ok)
	require.NotZero(t, entries[0].ID, "the entries' IDs are set")
	ok, err = b.ClaimReminder(ctx, daily.ID, slot, slot.Add(24*time.Hour), reminderEntry("يومي"))
	require.NoError(t, err)
	require.False(t, ok, "the same slot again")
	queued, err := b.PendingOutbox(ctx, "telegram", true, 0, 10)
	require.NoError(t, err)
	require.Len(t, queued, 1, "one message for the slot")
	require.True(t, queued[0].Bulk, "reminders queue behind broadcasts")
	require.Equal(t, "يومي", queued[0].Text)
	notices, err := b.PendingOutbox(ctx, "telegram", false, 0, 10)
	require.NoError(t, err)
	require.Empty(t, notices)
	got, err := b.Reminder(ctx, daily.ID)
	require.NoError(t, err)
	require.Equal(t, slot, got.LastFiredSlot)
	require.Equal(t, slot.Add(24*time.Hour), got.NextFireAt)
	due, err := b.DueReminders(ctx, t0.Add(time.Hour))
	require.NoError(t, err)
	require.Empty(t, due, "the claimed slot is not due again")

	if r, ok := b.(Reopener); ok {
		nb, err := r.Reopen()
		require.NoError(t, err)
		b = nb.(RemindersBackend)
		ok, err := b.ClaimReminder(ctx, daily.ID, slot, slot.Add(24*time.Hour), nil)
		require.NoError(t, err)
		require.False(t, ok, "the old slot after a restart")
	}

	// a one-off fires and is gone
	ok, err = b.ClaimReminder(ctx, once.ID, once.NextFireAt, time.Time{}, reminderEntry("مرة"))
	require.NoError(t, err)
	require.True(t, ok)
	_, err = b.Reminder(ctx, once.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	ok, err = b.ClaimReminder(ctx, once.ID, once.NextFireAt, time.Time{}, reminderEntry("مرة"))
	require.NoError(t, err)
	require.False(t, ok, "a one-off claimed before")

	// a deleted reminder is not claimed
	require.NoError(t, b.DeleteReminder(ctx, daily.ID))
	ok, err = b.ClaimReminder(ctx, daily.ID, slot.Add(24*time.Hour), time.Time{}, reminderEntry("x"))
	require.NoError(t, err)
	require.False(t, ok)
	queued, err = b.PendingOutbox(ctx, "telegram", true, 0, 10)
	require.NoError(t, err)
	require.Len(t, queued, 2, "daily once, one-off once")

	// a claim in a unit of work that fails claims nothing
	r := &store.Reminder{TextAR: "y", Audience: everyone(), At: t0}
	require.NoError(t, b.CreateReminder(ctx, r))
	boom := errors.New("boom")
	err = b.InTx(ctx, func(ctx context.Context) error {
		ok, err := b.ClaimReminder(ctx, r.ID, r.NextFireAt, time.Time{}, reminderEntry("y"))
		if err != nil {
			return err
		}
		require.True(t, ok)
		return boom
	})
	require.ErrorIs(t, err, boom)
	ok, err = b.ClaimReminder(ctx, r.ID, r.NextFireAt, time.Time{}, reminderEntry("y"))
	require.NoError(t, err)
	require.True(t, ok, "the slot rolled back is claimed again")

	_, err = b.ClaimReminder(ctx, r.ID, r.NextFireAt, time.Time{}, []store.OutboxEntry{{Text: "no address"}})
	require.Error(t, err, "an entry without an address")
}

// testConcurrentClaimReminder: claimers racing for a slot, as two
// instances' schedulers do, fire it once.
func testConcurrentClaimReminder(t *testing.T, b RemindersBackend) {
	const claimers = 8
	var rs []*store.Reminder
	for i := range 3 {
		r := &store.Reminder{TextAR: "يومي", Audience: everyone(), Spec: "0 10 * * *", NextFireAt: t0.Add(time.Duration(i) * time.Minute)}
		require.NoError(t, b.CreateReminder(ctx, r))
		rs = append(rs, r)
	}
	var wins [3]atomic.Int32
	var wg sync.WaitGroup
	for c := range claimers {
		wg.Go(func() {
			for i := range rs {
				r := rs[(i+c)%len(rs)]
				ok, err := b.ClaimReminder(ctx, r.ID, r.NextFireAt, r.NextFireAt.Add(24*time.Hour), reminderEntry(r.TextAR))
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					wins[(i+c)%len(rs)].Add(1)
				}
			}
		})
	}
	wg.Wait()
	for i := range rs {
		require.Equal(t, int32(1), wins[i].Load(), "reminder %d", i)
		got, err := b.Reminder(ctx, rs[i].ID)
		require.NoError(t, err)
		require.Equal(t, rs[i].NextFireAt.Add(24*time.Hour), got.NextFireAt)
	}
	queued, err := b.PendingOutbox(ctx, "telegram", true, 0, 100)
	require.NoError(t, err)
	require.Len(t, queued, len(rs), "one message per slot")
}

// testConcurrentClaimAsBroadcast: of claimers racing for a slot with a
// broadcast each, one creates its broadcast.
func testConcurrentClaimAsBroadcast(t *testing.T, b RemindersBackend) {
	r := &store.Reminder{TextAR: "غداً", TextEN: "Tomorrow", Audience: everyone(), At: t0, Kind: store.ReminderEvent}
	require.NoError(t, b.CreateReminder(ctx, r))
	const claimers = 8
	made := make(chan *store.Broadcast, claimers)
	var wg sync.WaitGroup
	for range claimers {
		wg.Go(func() {
			bc := &store.Broadcast{TextAR: r.TextAR, TextEN: r.TextEN, Audience: r.Audience}
			ok, err := b.ClaimReminderAsBroadcast(ctx, r.ID, r.NextFireAt, time.Time{}, bc)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				made <- bc
			} else if bc.ID != 0 {
				t.Errorf("a claim that lost has broadcast %d", bc.ID)
			}
		})
	}
	wg.Wait()
	close(made)
	var won []*store.Broadcast
	for bc := range made {
		won = append(won, bc)
	}
	require.Len(t, won, 1)
	bc := won[0]
	require.NotZero(t, bc.ID)
	require.Equal(t, store.BroadcastQueued, bc.Status)
	require.False(t, bc.CreatedAt.IsZero())
	got, err := b.Broadcast(ctx, bc.ID)
	require.NoError(t, err)
	require.Equal(t, store.BroadcastQueued, got.Status)
	require.Equal(t, "Tomorrow", got.TextEN)
	_, err = b.Broadcast(ctx, bc.ID+1)
	require.ErrorIs(t, err, store.ErrNotFound, "no broadcast for the claims that lost")
	_, err = b.Reminder(ctx, r.ID)
	require.ErrorIs(t, err, store.ErrNotFound, "a one-off is gone once claimed")

	entries := make([]store.OutboxEntry, 0, 5)
	for i := range 5 {
		c := person(t, b, "telegram:"+string(rune('1'+i)), nil)
		entries = append(entries, store.OutboxEntry{To: c.Addresses[0], ContactID: c.ID, Text: r.TextAR})
	}
	require.NoError(t, b.QueueBroadcast(ctx, bc.ID, entries))
	got, err = b.Broadcast(ctx, bc.ID)
	require.NoError(t, err)
	require.Equal(t, 5, got.Total)
	require.True(t, got.AllQueued)
}

func testMarkReminderMissed(t *testing.T, b RemindersBackend) {
	once := &store.Reminder{TextAR: "x", Audience: everyone(), At: t0.Add(-3 * time.Hour), CreatedBy: 5}
	require.NoError(t, b.CreateReminder(ctx, once))
	weekly := &store.Reminder{TextAR: "y", Audience: everyone(), Spec: "0 10 * * 5", NextFireAt: t0.Add(-2 * time.Hour)}
	require.NoError(t, b.CreateReminder(ctx, weekly))

	tell := store.OutboxEntry{To: addr("telegram:5"), Text: "your reminder was missed"}
	require.NoError(t, b.MarkReminderMissed(ctx, once.ID, once.NextFireAt, time.Time{}, tell))
	got, err := b.Reminder(ctx, once.ID)
	require.NoError(t, err)
	require.True(t, got.Missed)
	require.Equal(t, once.At, got.MissedSlot)
	require.True(t, got.NextFireAt.IsZero(), "kept for the record, never due")
	require.NoError(t, b.MarkReminderMissed(ctx, once.ID, once.NextFireAt, time.Time{}, tell), "the same slot again")
	notices, err := b.PendingOutbox(ctx, "telegram", false, 0, 10)
	require.NoError(t, err)
	require.Len(t, notices, 1, "the coordinator is told once, on the notice lane")
	all, err := b.Reminders(ctx)
	require.NoError(t, err)
	require.Len(t, all, 2, "a missed one-off is listed")

	next := t0.Add(5 * 24 * time.Hour)
	require.NoError(t, b.MarkReminderMissed(ctx, weekly.ID, weekly.NextFireAt, next))
	got, err = b.Reminder(ctx, weekly.ID)
	require.NoError(t, err)
	require.True(t, got.Missed)
	require.Equal(t, weekly.NextFireAt, got.MissedSlot)
	require.Equal(t, next, got.NextFireAt)

	due, err := b.DueReminders(ctx, t0)
	require.NoError(t, err)
	require.Empty(t, due)
	due, err = b.DueReminders(ctx, next)
	require.NoError(t, err)
	require.Equal(t, []uint64{weekly.ID}, reminderIDs(due))
	require.NoError(t, b.MarkReminderMissed(ctx, weekly.ID+100, next, time.Time{}), "an unknown reminder")
}

func testUpdateReminder(t *testing.T, b RemindersBackend) {
	r := &store.Reminder{TextAR: "x", Audience: everyone(), At: t0}
	require.NoError(t, b.CreateReminder(ctx, r))
	got, err := b.UpdateReminder(ctx, r.ID, func(r *store.Reminder) error {
		r.ID = 999
		r.NextFireAt = t0.Add(time.Hour).In(time.FixedZone("Asia/Gaza", 2*3600))
		r.Suspended = true
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, r.ID, got.ID, "the ID cannot change")
	require.Equal(t, time.UTC, got.NextFireAt.Location())
	due, err := b.DueReminders(ctx, t0)
	require.NoError(t, err)
	require.Empty(t, due, "moved out of the due index")
	due, err = b.DueReminders(ctx, t0.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, []uint64{r.ID}, reminderIDs(due))
	require.True(t, due[0].Suspended)

	boom := errors.New("boom")
	_, err = b.UpdateReminder(ctx, r.ID, func(r *store.Reminder) error {
		r.NextFireAt = time.Time{}
		return boom
	})
	require.ErrorIs(t, err, boom)
	due, err = b.DueReminders(ctx, t0.Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, due, 1, "nothing written")

	_, err = b.UpdateReminder(ctx, r.ID, func(r *store.Reminder) error {
		r.NextFireAt = time.Time{}
		return nil
	})
	require.NoError(t, err)
	due, err = b.DueReminders(ctx, t0.Add(100*time.Hour))
	require.NoError(t, err)
	require.Empty(t, due, "a zero NextFireAt is never due")
	_, err = b.Reminder(ctx, r.ID)
	require.NoError(t, err, "but kept")
	_, err = b.UpdateReminder(ctx, r.ID+100, func(*store.Reminder) error { return nil })
	require.ErrorIs(t, err, store.ErrNotFound)
}
