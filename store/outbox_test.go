package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"mobilise/bot"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

// openOutboxStore is openTestStore that also checks, at the end of the
// test, that the outbox, broadcasts and reminders agree with their indexes.
func openOutboxStore(t *testing.T) (*Store, *testClock) {
	t.Helper()
	s, clock := openTestStore(t)
	t.Cleanup(func() {
		if !t.Failed() {
			assert.NoError(t, checkSchedules(s))
		}
	})
	return s, clock
}

// checkSchedules runs the outbox and reminder checks.
func checkSchedules(s *Store) error {
	var problems []error
	report := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }
	err := s.DB().View(func(tx *bbolt.Tx) error {
		checkOutbox(tx, report)
		checkReminders(tx, report)
		return nil
	})
	return errors.Join(append(problems, err)...)
}

func pendingIDs(t *testing.T, s *Store, channel bot.ChannelName, bulk bool) []uint64 {
	t.Helper()
	entries, err := s.PendingOutbox(context.Background(), channel, bulk, 0, 1000)
	require.NoError(t, err)
	ids := []uint64{}
	for _, e := range entries {
		ids = append(ids, e.ID)
	}
	return ids
}

func TestEnqueueAndPending(t *testing.T) {
	s, _ := openOutboxStore(t)
	buttons := [][]bot.Button{{{Text: "نعم", Payload: "m:1:yes"}, {Text: "لا", Payload: "m:1:no"}}}
	entries := []OutboxEntry{
		{To: bot.MustParseAddress("telegram:1"), ContactID: 1, Text: "أهلاً", Buttons: buttons, Lang: "ar", Kind: "target_reached"},
		{To: bot.MustParseAddress("whatsapp:2"), ContactID: 2, Text: "hello", Lang: "en"},
		{To: bot.MustParseAddress("telegram:3"), Text: "reminder", Bulk: true, Kind: "reminder"},
		{Channel: "telegram", To: bot.MustParseAddress("telegram:1"), Text: "second"},
	}
	require.NoError(t, s.Enqueue(context.Background(), entries...))
	assert.Equal(t, uint64(1), entries[0].ID)
	for i := 1; i < len(entries); i++ {
		assert.Equal(t, entries[i-1].ID+1, entries[i].ID, "one sequence for all channels")
	}
	require.NoError(t, s.Enqueue(context.Background(), OutboxEntry{To: bot.MustParseAddress("telegram:4"), Text: "later"}))

	notices, err := s.PendingOutbox(context.Background(), "telegram", false, 0, 10)
	require.NoError(t, err)
	require.Len(t, notices, 3)
	assert.Equal(t, []uint64{1, 4, 5}, []uint64{notices[0].ID, notices[1].ID, notices[2].ID})
	assert.Equal(t, bot.Telegram, notices[0].Channel)
	assert.Equal(t, buttons, notices[0].Buttons, "buttons survive the outbox")
	assert.Equal(t, MessageKind("target_reached"), notices[0].Kind)

	assert.Equal(t, []uint64{3}, pendingIDs(t, s, "telegram", true))
	assert.Equal(t, []uint64{2}, pendingIDs(t, s, "whatsapp", false))
	assert.Equal(t, []uint64{}, pendingIDs(t, s, "console", false))

	// paging: after and limit
	page, err := s.PendingOutbox(context.Background(), "telegram", false, 1, 1)
	require.NoError(t, err)
	require.Len(t, page, 1)
	assert.Equal(t, uint64(4), page[0].ID)
	page, err = s.PendingOutbox(context.Background(), "telegram", false, ^uint64(0), 10)
	require.NoError(t, err)
	assert.Empty(t, page)

	depth, err := s.OutboxDepth(context.Background())
	require.NoError(t, err)
	assert.Equal(t, map[bot.ChannelName]int{"telegram": 4, "whatsapp": 1}, depth)
}

func TestEnqueueRejectsBadEntries(t *testing.T) {
	s, _ := openOutboxStore(t)
	for _, e := range []OutboxEntry{
		{To: bot.Address{Channel: bot.Telegram}, Text: "x"},
		{To: bot.Address{ID: "1"}, Text: "x"},
		{Channel: "whatsapp", To: bot.MustParseAddress("telegram:1"), Text: "x"},
	} {
		assert.Error(t, s.Enqueue(context.Background(), OutboxEntry{To: bot.MustParseAddress("telegram:9"), Text: "fine"}, e), "%+v", e)
	}
	assert.Equal(t, []uint64{}, pendingIDs(t, s, "telegram", false), "nothing of a rejected call is written")
}

func TestOutboxOutcomes(t *testing.T) {
	s, clock := openOutboxStore(t)
	entries := []OutboxEntry{{To: bot.MustParseAddress("telegram:1"), Text: "a"}, {To: bot.MustParseAddress("telegram:2"), Text: "b"}, {To: bot.MustParseAddress("telegram:3"), Text: "c"}}
	require.NoError(t, s.Enqueue(context.Background(), entries...))

	// started, then a failed attempt clears it and holds the entry back
	require.NoError(t, s.OutboxStarted(context.Background(), entries[0].ID, 999))
	got, err := s.PendingOutbox(context.Background(), "telegram", false, 0, 1)
	require.NoError(t, err)
	assert.Equal(t, clock.Now(), got[0].Started)
	notBefore := clock.Now().Add(time.Minute)
	require.NoError(t, s.OutboxRetry(context.Background(), entries[0].ID, notBefore, "timeout"))
	got, err = s.PendingOutbox(context.Background(), "telegram", false, 0, 1)
	require.NoError(t, err)
	assert.Equal(t, 1, got[0].Attempts)
	assert.Equal(t, "timeout", got[0].LastError)
	assert.True(t, got[0].Started.IsZero())
	assert.Equal(t, notBefore, got[0].NotBefore)
	require.NoError(t, s.OutboxStarted(context.Background(), entries[0].ID))
	require.NoError(t, s.OutboxNotStarted(context.Background(), entries[0].ID))
	got, err = s.PendingOutbox(context.Background(), "telegram", false, 0, 1)
	require.NoError(t, err)
	assert.True(t, got[0].Started.IsZero())

	queued, err := s.OutboxQueued(context.Background(), entries[0].ID)
	require.NoError(t, err)
	assert.True(t, queued)
	require.NoError(t, s.OutboxDone(context.Background(), entries[0].ID, entries[1].ID))
	require.NoError(t, s.OutboxFailed(context.Background(), entries[2].ID, "chat not found", false))
	queued, err = s.OutboxQueued(context.Background(), entries[0].ID)
	require.NoError(t, err)
	assert.False(t, queued)
	assert.Equal(t, []uint64{}, pendingIDs(t, s, "telegram", false))
	// recording again, or an unknown ID, changes nothing
	require.NoError(t, s.OutboxDone(context.Background(), entries[0].ID, 12345))
	require.NoError(t, s.OutboxFailed(context.Background(), entries[2].ID, "again", true))
	require.NoError(t, s.OutboxRetry(context.Background(), 777, clock.Now(), "x"))
	depth, err := s.OutboxDepth(context.Background())
	require.NoError(t, err)
	assert.Empty(t, depth)
}

func TestOutboxSentSinceCountsBulkPerMinute(t *testing.T) {
	s, clock := openOutboxStore(t)
	start := clock.Now()
	send := func(bulk bool, channel bot.ChannelName) {
		e := OutboxEntry{To: bot.Address{Channel: channel, ID: "1"}, Text: "x", Bulk: bulk}
		require.NoError(t, s.Enqueue(context.Background(), e))
		entries, err := s.PendingOutbox(context.Background(), channel, bulk, 0, 1)
		require.NoError(t, err)
		require.NoError(t, s.OutboxDone(context.Background(), entries[0].ID))
	}
	send(true, "whatsapp")
	send(true, "whatsapp")
	send(false, "whatsapp") // notices do not count
	send(true, "telegram")
	clock.Add(90 * time.Second)
	send(true, "whatsapp")

	n, err := s.OutboxSentSince(context.Background(), "whatsapp", start)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	n, err = s.OutboxSentSince(context.Background(), "whatsapp", start.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	n, err = s.OutboxSentSince(context.Background(), "telegram", start)
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	// counts older than 48 hours are pruned by later sends
	clock.Add(49 * time.Hour)
	send(true, "whatsapp")
	n, err = s.OutboxSentSince(context.Background(), "whatsapp", start)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

func TestOutboxSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mobilise.db")
	s, err := Open(path)
	require.NoError(t, err)
	e := OutboxEntry{To: bot.MustParseAddress("whatsapp:1"), Text: "x", Bulk: true}
	require.NoError(t, s.Enqueue(context.Background(), e))
	require.NoError(t, s.Close())
	s, err = Open(path)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	entries, err := s.PendingOutbox(context.Background(), "whatsapp", true, 0, 10)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "x", entries[0].Text)
	require.NoError(t, s.Enqueue(context.Background(), e))
	entries, err = s.PendingOutbox(context.Background(), "whatsapp", true, 0, 10)
	require.NoError(t, err)
	require.Len(t, entries, 2)
	assert.Greater(t, entries[1].ID, entries[0].ID, "IDs keep growing across restarts")
	require.NoError(t, checkSchedules(s))
}
