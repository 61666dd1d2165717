package store

import (
	"context"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

func TestTelegramOffset(t *testing.T) {
	s, _ := openTestStore(t)
	off, err := s.TelegramOffset(context.Background())
	require.NoError(t, err)
	assert.Zero(t, off)
	require.NoError(t, s.SetTelegramOffset(context.Background(), 123456789012))
	off, err = s.TelegramOffset(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(123456789012), off)
}

func TestMarkHandled(t *testing.T) {
	s, _ := openTestStore(t)
	first, err := s.MarkHandled(context.Background(), "telegram", "10")
	require.NoError(t, err)
	assert.True(t, first)
	first, err = s.MarkHandled(context.Background(), "telegram", "10")
	require.NoError(t, err)
	assert.False(t, first)
	first, err = s.MarkHandled(context.Background(), "whatsapp", "10")
	require.NoError(t, err)
	assert.True(t, first, "channels are apart")
	_, err = s.MarkHandled(context.Background(), "", "1")
	assert.Error(t, err)
	first, err = s.MarkHandled(context.Background(), "whatsapp", "3EB0A1B2C3")
	require.NoError(t, err)
	assert.True(t, first, "message IDs that are not numbers")
	first, err = s.MarkHandled(context.Background(), "whatsapp", "3EB0A1B2C3")
	require.NoError(t, err)
	assert.False(t, first)
	// a Telegram update ID keeps the key it had before IDs were strings
	assert.Equal(t, append([]byte("telegram\x00"), itob(10)...), handledKey("telegram", "10"))
	assert.Equal(t, []byte("telegram\x00007"), handledKey("telegram", "007"), "not a canonical number")

	// the same update delivered to many workers at once is handled once
	var wg sync.WaitGroup
	var firsts atomic.Int32
	for range 30 {
		wg.Go(func() {
			first, err := s.MarkHandled(context.Background(), "telegram", "11")
			assert.NoError(t, err)
			if first {
				firsts.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), firsts.Load())
}

func TestMarkHandledPrunesAfter48Hours(t *testing.T) {
	s, clock := openTestStore(t)
	const old = pruneBatch + 10
	for id := range int64(old) {
		_, err := s.MarkHandled(context.Background(), "telegram", strconv.FormatInt(id, 10))
		require.NoError(t, err)
	}
	entries := func() (handled, byTime int) {
		require.NoError(t, s.DB().View(func(tx *bbolt.Tx) error {
			handled = tx.Bucket(bucketHandled).Stats().KeyN
			byTime = tx.Bucket(bucketHandledByTime).Stats().KeyN
			return nil
		}))
		return handled, byTime
	}
	h, bt := entries()
	assert.Equal(t, old, h)
	assert.Equal(t, old, bt)

	clock.Add(47 * time.Hour)
	_, err := s.MarkHandled(context.Background(), "telegram", "1000")
	require.NoError(t, err)
	h, _ = entries()
	assert.Equal(t, old+1, h, "nothing is 48 hours old yet")

	clock.Add(time.Hour + time.Second)
	_, err = s.MarkHandled(context.Background(), "telegram", "1001")
	require.NoError(t, err)
	h, bt = entries()
	assert.Equal(t, old+2-pruneBatch, h, "one call prunes a bounded number")
	assert.Equal(t, h, bt)
	_, err = s.MarkHandled(context.Background(), "telegram", "1002")
	require.NoError(t, err)
	h, _ = entries()
	assert.Equal(t, 3, h, "the rest of the old ones went on the next call")

	// a pruned update would count as new again: that is the 48-hour window
	first, err := s.MarkHandled(context.Background(), "telegram", "1000")
	require.NoError(t, err)
	assert.False(t, first, "47 hours old: still remembered")
}

func TestThrottledUntilSurvivesARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mobilise.db")
	s, err := Open(path)
	require.NoError(t, err)
	ctx := context.Background()
	until, err := s.ThrottledUntil(ctx, "telegram")
	require.NoError(t, err)
	assert.True(t, until.IsZero())
	at := time.Date(2026, 12, 1, 10, 0, 7, 500, time.UTC)
	require.NoError(t, s.SetThrottledUntil(ctx, "telegram", at))
	require.NoError(t, s.SetThrottledUntil(ctx, "telegram", at.Add(-time.Second)), "an earlier deadline")
	require.NoError(t, s.Close())

	s, err = Open(path)
	require.NoError(t, err)
	defer s.Close()
	until, err = s.ThrottledUntil(ctx, "telegram")
	require.NoError(t, err)
	assert.True(t, at.Equal(until), "got %s", until)
	other, err := s.ThrottledUntil(ctx, "whatsapp")
	require.NoError(t, err)
	assert.True(t, other.IsZero(), "channels are apart")
}
