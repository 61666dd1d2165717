package store

import (
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
	off, err := s.TelegramOffset()
	require.NoError(t, err)
	assert.Zero(t, off)
	require.NoError(t, s.SetTelegramOffset(123456789012))
	off, err = s.TelegramOffset()
	require.NoError(t, err)
	assert.Equal(t, int64(123456789012), off)
}

func TestMarkUpdateHandled(t *testing.T) {
	s, _ := openTestStore(t)
	first, err := s.MarkUpdateHandled("telegram", 10)
	require.NoError(t, err)
	assert.True(t, first)
	first, err = s.MarkUpdateHandled("telegram", 10)
	require.NoError(t, err)
	assert.False(t, first)
	first, err = s.MarkUpdateHandled("whatsapp", 10)
	require.NoError(t, err)
	assert.True(t, first, "channels are apart")
	_, err = s.MarkUpdateHandled("", 1)
	assert.Error(t, err)

	// the same update delivered to many workers at once is handled once
	var wg sync.WaitGroup
	var firsts atomic.Int32
	for range 30 {
		wg.Go(func() {
			first, err := s.MarkUpdateHandled("telegram", 11)
			assert.NoError(t, err)
			if first {
				firsts.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), firsts.Load())
}

func TestMarkUpdateHandledPrunesAfter48Hours(t *testing.T) {
	s, clock := openTestStore(t)
	const old = pruneBatch + 10
	for id := range int64(old) {
		_, err := s.MarkUpdateHandled("telegram", id)
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
	_, err := s.MarkUpdateHandled("telegram", 1000)
	require.NoError(t, err)
	h, _ = entries()
	assert.Equal(t, old+1, h, "nothing is 48 hours old yet")

	clock.Add(time.Hour + time.Second)
	_, err = s.MarkUpdateHandled("telegram", 1001)
	require.NoError(t, err)
	h, bt = entries()
	assert.Equal(t, old+2-pruneBatch, h, "one call prunes a bounded number")
	assert.Equal(t, h, bt)
	_, err = s.MarkUpdateHandled("telegram", 1002)
	require.NoError(t, err)
	h, _ = entries()
	assert.Equal(t, 3, h, "the rest of the old ones went on the next call")

	// a pruned update would count as new again: that is the 48-hour window
	first, err := s.MarkUpdateHandled("telegram", 1000)
	require.NoError(t, err)
	assert.False(t, first, "47 hours old: still remembered")
}
