package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"mobilise/bot"

	"github.com/robfig/cron/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReminderLifecycle(t *testing.T) {
	s, clock := openOutboxStore(t)
	now := clock.Now()
	once := &Reminder{TextAR: "تذكير", Audience: Audience{Kind: AudienceEveryone}, At: now.Add(time.Hour), Kind: ReminderCustom, CreatedBy: 3}
	require.NoError(t, s.CreateReminder(context.Background(), once))
	assert.NotZero(t, once.ID)
	assert.Equal(t, now.Add(time.Hour), once.NextFireAt, "a one-off fires at At")
	assert.Equal(t, now, once.CreatedAt)
	weekly := &Reminder{TextAR: "كل جمعة", Audience: Audience{Kind: AudienceMembers}, Spec: "0 10 * * 5",
		NextFireAt: now.Add(30 * time.Minute), Kind: ReminderCustom}
	require.NoError(t, s.CreateReminder(context.Background(), weekly))

	require.Error(t, s.CreateReminder(context.Background(), &Reminder{TextAR: "x", Audience: Audience{Kind: AudienceEveryone}}), "no time")
	require.Error(t, s.CreateReminder(context.Background(), &Reminder{TextAR: "x", At: now}), "no audience")

	all, err := s.Reminders(context.Background())
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.Equal(t, *once, all[0])
	got, err := s.Reminder(context.Background(), weekly.ID)
	require.NoError(t, err)
	assert.Equal(t, *weekly, *got)

	due, err := s.DueReminders(context.Background(), now.Add(29*time.Minute))
	require.NoError(t, err)
	assert.Empty(t, due)
	due, err = s.DueReminders(context.Background(), now.Add(2*time.Hour))
	require.NoError(t, err)
	require.Len(t, due, 2)
	assert.Equal(t, []uint64{weekly.ID, once.ID}, []uint64{due[0].ID, due[1].ID}, "earliest first")

	require.NoError(t, s.DeleteReminder(context.Background(), once.ID))
	require.ErrorIs(t, s.DeleteReminder(context.Background(), once.ID), ErrNotFound)
	_, err = s.Reminder(context.Background(), once.ID)
	require.ErrorIs(t, err, ErrNotFound)
	due, err = s.DueReminders(context.Background(), now.Add(2*time.Hour))
	require.NoError(t, err)
	require.Len(t, due, 1)
}

// fireDue is the scheduler's job in small: read what is due, then claim
// each slot with its messages. It returns how many slots it claimed.
func fireDue(t *testing.T, s *Store, now time.Time) int {
	t.Helper()
	due, err := s.DueReminders(context.Background(), now)
	require.NoError(t, err)
	claimed := 0
	for _, r := range due {
		var next time.Time
		if r.Spec != "" {
			sched, err := cron.ParseStandard(r.Spec)
			require.NoError(t, err)
			next = sched.Next(now)
		}
		ok, err := s.ClaimReminder(context.Background(), r.ID, r.NextFireAt, next, []OutboxEntry{{To: bot.MustParseAddress("telegram:1"), Text: r.TextAR}})
		require.NoError(t, err)
		if ok {
			claimed++
		}
	}
	return claimed
}

func TestClaimReminderFiresEachSlotOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mobilise.db")
	clock := newTestClock() // Sunday 1 March 2026, 09:00 UTC
	s, err := Open(path, WithNow(clock.Now))
	require.NoError(t, err)

	sched, err := cron.ParseStandard("0 10 * * *")
	require.NoError(t, err)
	daily := &Reminder{TextAR: "يومي", Audience: Audience{Kind: AudienceEveryone}, Spec: "0 10 * * *", NextFireAt: sched.Next(clock.Now())}
	require.NoError(t, s.CreateReminder(context.Background(), daily))
	once := &Reminder{TextAR: "مرة", Audience: Audience{Kind: AudienceEveryone}, At: clock.Now().Add(90 * time.Minute)}
	require.NoError(t, s.CreateReminder(context.Background(), once))
	slot := daily.NextFireAt

	// 10:00: the daily one is due; two ticks racing for it claim it once
	clock.Add(time.Hour)
	due, err := s.DueReminders(context.Background(), clock.Now())
	require.NoError(t, err)
	require.Len(t, due, 1)
	ok, err := s.ClaimReminder(context.Background(), daily.ID, slot, sched.Next(clock.Now()), []OutboxEntry{{To: bot.MustParseAddress("telegram:1"), Text: "يومي"}})
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = s.ClaimReminder(context.Background(), daily.ID, slot, sched.Next(clock.Now()), []OutboxEntry{{To: bot.MustParseAddress("telegram:1"), Text: "يومي"}})
	require.NoError(t, err)
	assert.False(t, ok, "the same slot again")
	entries, err := s.PendingOutbox(context.Background(), "telegram", true, 0, 10)
	require.NoError(t, err)
	require.Len(t, entries, 1, "one message for the slot")
	assert.True(t, entries[0].Bulk, "reminders queue behind broadcasts")
	got, err := s.Reminder(context.Background(), daily.ID)
	require.NoError(t, err)
	assert.Equal(t, slot, got.LastFiredSlot)
	assert.Equal(t, slot.Add(24*time.Hour), got.NextFireAt)

	// restart: the claimed slot is not due again
	require.NoError(t, s.Close())
	s, err = Open(path, WithNow(clock.Now))
	require.NoError(t, err)
	defer func() {
		require.NoError(t, checkSchedules(s))
		require.NoError(t, s.Close())
	}()
	assert.Zero(t, fireDue(t, s, clock.Now()))
	ok, err = s.ClaimReminder(context.Background(), daily.ID, slot, sched.Next(clock.Now()), nil)
	require.NoError(t, err)
	assert.False(t, ok, "the old slot after a restart")

	// 10:30: the one-off fires and is deleted
	clock.Add(30 * time.Minute)
	assert.Equal(t, 1, fireDue(t, s, clock.Now()))
	_, err = s.Reminder(context.Background(), once.ID)
	require.ErrorIs(t, err, ErrNotFound)
	assert.Zero(t, fireDue(t, s, clock.Now()))

	// the process dies after reading what is due, before claiming: the next
	// start claims it, once
	clock.Add(24 * time.Hour)
	due, err = s.DueReminders(context.Background(), clock.Now())
	require.NoError(t, err)
	require.Len(t, due, 1)
	require.NoError(t, s.Close())
	s, err = Open(path, WithNow(clock.Now))
	require.NoError(t, err)
	assert.Equal(t, 1, fireDue(t, s, clock.Now()))
	assert.Zero(t, fireDue(t, s, clock.Now()))

	entries, err = s.PendingOutbox(context.Background(), "telegram", true, 0, 10)
	require.NoError(t, err)
	assert.Len(t, entries, 3, "daily twice, one-off once")

	// a deleted reminder is not claimed
	require.NoError(t, s.DeleteReminder(context.Background(), daily.ID))
	ok, err = s.ClaimReminder(context.Background(), daily.ID, slot.Add(48*time.Hour), time.Time{}, nil)
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestMarkReminderMissed(t *testing.T) {
	s, clock := openOutboxStore(t)
	once := &Reminder{TextAR: "x", Audience: Audience{Kind: AudienceEveryone}, At: clock.Now().Add(-3 * time.Hour), CreatedBy: 5}
	require.NoError(t, s.CreateReminder(context.Background(), once))
	weekly := &Reminder{TextAR: "y", Audience: Audience{Kind: AudienceEveryone}, Spec: "0 10 * * 5", NextFireAt: clock.Now().Add(-2 * time.Hour)}
	require.NoError(t, s.CreateReminder(context.Background(), weekly))

	tell := OutboxEntry{To: bot.MustParseAddress("telegram:5"), Text: "your reminder was missed"}
	require.NoError(t, s.MarkReminderMissed(context.Background(), once.ID, once.NextFireAt, time.Time{}, tell))
	got, err := s.Reminder(context.Background(), once.ID)
	require.NoError(t, err)
	assert.True(t, got.Missed)
	assert.Equal(t, once.At, got.MissedSlot)
	assert.True(t, got.NextFireAt.IsZero(), "kept for the record, never due")
	// a second call for the same slot (after a restart) writes nothing
	require.NoError(t, s.MarkReminderMissed(context.Background(), once.ID, once.NextFireAt, time.Time{}, tell))
	notices, err := s.PendingOutbox(context.Background(), "telegram", false, 0, 10)
	require.NoError(t, err)
	require.Len(t, notices, 1, "the coordinator is told once")

	next := clock.Now().Add(5 * 24 * time.Hour)
	require.NoError(t, s.MarkReminderMissed(context.Background(), weekly.ID, weekly.NextFireAt, next))
	got, err = s.Reminder(context.Background(), weekly.ID)
	require.NoError(t, err)
	assert.True(t, got.Missed)
	assert.Equal(t, next, got.NextFireAt)

	due, err := s.DueReminders(context.Background(), clock.Now())
	require.NoError(t, err)
	assert.Empty(t, due)
	due, err = s.DueReminders(context.Background(), next)
	require.NoError(t, err)
	require.Len(t, due, 1)
	assert.Equal(t, weekly.ID, due[0].ID)
}

func TestClaimReminderAsBroadcast(t *testing.T) {
	s, clock := openOutboxStore(t)
	r := &Reminder{TextAR: "غداً", TextEN: "Tomorrow", Audience: Audience{Kind: AudienceEveryone}, At: clock.Now(), Kind: ReminderEvent}
	require.NoError(t, s.CreateReminder(context.Background(), r))

	b := &Broadcast{TextAR: r.TextAR, TextEN: r.TextEN, Audience: r.Audience}
	ok, err := s.ClaimReminderAsBroadcast(context.Background(), r.ID, r.NextFireAt, time.Time{}, b)
	require.NoError(t, err)
	require.True(t, ok)
	assert.NotZero(t, b.ID)
	assert.Equal(t, BroadcastQueued, b.Status)
	_, err = s.Reminder(context.Background(), r.ID)
	require.ErrorIs(t, err, ErrNotFound, "a one-off is gone once claimed")

	again := &Broadcast{TextAR: r.TextAR}
	ok, err = s.ClaimReminderAsBroadcast(context.Background(), r.ID, r.NextFireAt, time.Time{}, again)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Zero(t, again.ID)
	all, err := s.Broadcasts(context.Background())
	require.NoError(t, err)
	assert.Len(t, all, 1, "no broadcast for a slot claimed before")

	require.NoError(t, s.QueueBroadcast(context.Background(), b.ID, broadcastEntries(50, r.TextAR)))
	got, err := s.Broadcast(context.Background(), b.ID)
	require.NoError(t, err)
	assert.Equal(t, 50, got.Total)
	assert.True(t, got.AllQueued)
}
