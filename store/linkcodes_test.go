package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"mobilise/bot"
)

func TestLinkCodesOnePerPersonAndExpire(t *testing.T) {
	s, clock := openTestStore(t)
	ctx := context.Background()
	now := clock.Now()
	require.NoError(t, s.PutLinkCode(ctx, "first", 7, now.Add(10*time.Minute)))
	require.NoError(t, s.PutLinkCode(ctx, "second", 7, now.Add(10*time.Minute)))
	_, err := s.TakeLinkCode(ctx, "first", now)
	assert.ErrorIs(t, err, ErrNotFound, "a new code replaces the old one")
	id, err := s.TakeLinkCode(ctx, "second", now)
	require.NoError(t, err)
	assert.Equal(t, uint64(7), id)
	_, err = s.TakeLinkCode(ctx, "second", now)
	assert.ErrorIs(t, err, ErrNotFound, "a code works once")

	require.NoError(t, s.PutLinkCode(ctx, "late", 8, now.Add(time.Minute)))
	_, err = s.TakeLinkCode(ctx, "late", now.Add(2*time.Minute))
	assert.ErrorIs(t, err, ErrNotFound, "expired")

	// thousands of codes that expire leave nothing behind
	for i := range 1000 {
		require.NoError(t, s.PutLinkCode(ctx, "c"+itoa(i), uint64(100+i), now.Add(time.Minute)))
	}
	clock.Add(time.Hour)
	for i := range 150 {
		require.NoError(t, s.PutLinkCode(ctx, "n"+itoa(i), 9, clock.Now().Add(time.Minute)))
	}
	var keys int
	require.NoError(t, s.DB().View(func(tx *bbolt.Tx) error {
		keys = tx.Bucket(bucketLinkCodes).Stats().KeyN
		return nil
	}))
	assert.Less(t, keys, 160, "expired codes are pruned as new ones come")
}

func TestPendingLinksAndForget(t *testing.T) {
	s, clock := openTestStore(t)
	ctx := context.Background()
	now := clock.Now()
	require.NoError(t, s.PutPendingLink(ctx, "tok", PendingLink{Owner: 1, Requester: 2, Expires: now.Add(time.Minute)}))
	pl, err := s.TakePendingLink(ctx, "tok", now)
	require.NoError(t, err)
	assert.Equal(t, PendingLink{Owner: 1, Requester: 2, Expires: now.Add(time.Minute).UTC()}, pl)
	_, err = s.TakePendingLink(ctx, "tok", now)
	assert.ErrorIs(t, err, ErrNotFound)

	require.NoError(t, s.PutPendingLink(ctx, "tok2", PendingLink{Owner: 3, Requester: 4, Expires: now.Add(time.Minute)}))
	require.NoError(t, s.PutLinkCode(ctx, "mine", 4, now.Add(time.Minute)))
	require.NoError(t, s.ForgetLinkCodes(ctx, 4))
	_, err = s.TakePendingLink(ctx, "tok2", now)
	assert.ErrorIs(t, err, ErrNotFound, "forgotten with the person")
	_, err = s.TakeLinkCode(ctx, "mine", now)
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestAddressMarksOutliveTheContact(t *testing.T) {
	s, clock := openTestStore(t)
	ctx := context.Background()
	a := bot.MustParseAddress("telegram:42")
	m1, err := s.AddressMark(ctx, a)
	require.NoError(t, err)
	m2, err := s.AddressMark(ctx, a)
	require.NoError(t, err)
	assert.Equal(t, m1, m2)
	other, err := s.AddressMark(ctx, bot.MustParseAddress("telegram:43"))
	require.NoError(t, err)
	assert.NotEqual(t, m1, other)
	assert.NotContains(t, string(m1), "42")

	now := clock.Now()
	for range 3 {
		require.NoError(t, s.AddLinkFailure(ctx, m1, now))
	}
	fails, err := s.LinkFailures(ctx, m1, now)
	require.NoError(t, err)
	assert.Len(t, fails, 3)
	fails, err = s.LinkFailures(ctx, m1, now.Add(61*time.Minute))
	require.NoError(t, err)
	assert.Empty(t, fails, "an hour later they no longer count")
}

func TestBulkSendLedger(t *testing.T) {
	s, clock := openTestStore(t)
	ctx := context.Background()
	now := clock.Now()
	require.NoError(t, s.RecordBulkSend(ctx, BulkSend{Author: 1, At: now.Add(-30 * time.Hour), Kind: "broadcast", ID: 1, Recipients: 5}))
	require.NoError(t, s.RecordBulkSend(ctx, BulkSend{Author: 1, At: now.Add(-2 * time.Hour), Kind: "broadcast", ID: 2, Recipients: 2}))
	require.NoError(t, s.RecordBulkSend(ctx, BulkSend{Author: 1, At: now.Add(-time.Hour), Kind: "reminder", ID: 3, Recipients: 4, Approved: true}))
	require.NoError(t, s.RecordBulkSend(ctx, BulkSend{Author: 2, At: now, Kind: "broadcast", ID: 4, Recipients: 9}))
	got, err := s.BulkSentSince(ctx, 1, now.Add(-24*time.Hour))
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, uint64(2), got[0].ID)
	assert.True(t, got[1].Approved)

	require.NoError(t, s.RecordBulkSend(ctx, BulkSend{Author: 1, At: now.Add(20 * time.Hour), Kind: "broadcast", ID: 5}))
	all, err := s.BulkSentSince(ctx, 1, time.Time{})
	require.NoError(t, err)
	assert.Len(t, all, 3, "sends older than 48 hours are pruned")
}

func TestSuspendAndResumeBroadcast(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	b := &Broadcast{TextAR: "نداء", Audience: Audience{Kind: AudienceEveryone}, CreatedBy: 3}
	require.NoError(t, s.CreateBroadcast(ctx, b))
	require.NoError(t, s.QueueBroadcast(ctx, b.ID, broadcastEntries(5, "نداء")))
	parked, err := s.SuspendBroadcast(ctx, b.ID)
	require.NoError(t, err)
	assert.Equal(t, 5, parked)
	pending, err := s.PendingOutbox(ctx, bot.Telegram, true, 0, 100)
	require.NoError(t, err)
	assert.Empty(t, pending, "no dispatcher sees a suspended broadcast's messages")
	got, err := s.Broadcast(ctx, b.ID)
	require.NoError(t, err)
	assert.Equal(t, BroadcastSuspended, got.Status)
	require.NoError(t, s.Check())

	resumed, err := s.ResumeBroadcast(ctx, b.ID, 9)
	require.NoError(t, err)
	assert.Equal(t, BroadcastQueued, resumed.Status)
	assert.Equal(t, uint64(9), resumed.CreatedBy, "the admin who took it over")
	pending, err = s.PendingOutbox(ctx, bot.Telegram, true, 0, 100)
	require.NoError(t, err)
	onWhatsApp, err := s.PendingOutbox(ctx, bot.WhatsApp, true, 0, 100)
	require.NoError(t, err)
	assert.Len(t, append(pending, onWhatsApp...), 5)
	_, err = s.ResumeBroadcast(ctx, b.ID, 9)
	assert.ErrorIs(t, err, ErrNotSuspended)

	// dropping a suspended broadcast removes its parked messages
	_, err = s.SuspendBroadcast(ctx, b.ID)
	require.NoError(t, err)
	removed, err := s.CancelBroadcast(ctx, b.ID)
	require.NoError(t, err)
	assert.Equal(t, 5, removed)
	depth, err := s.OutboxDepth(ctx)
	require.NoError(t, err)
	assert.Zero(t, depth[bot.Telegram]+depth[bot.WhatsApp])
}

func itoa(i int) string {
	return string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676%26))
}
