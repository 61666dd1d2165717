package conform

import (
	"context"
	"sync"
	"testing"
	"time"

	"mobilise/bot"
	"mobilise/store"

	"github.com/stretchr/testify/require"
)

// PauseBackend is a Backend that keeps the kill switch and the platforms'
// throttles.
type PauseBackend interface {
	Backend
	Pause(ctx context.Context) (store.Pause, error)
	SetPause(ctx context.Context, p store.Pause) error
	ThrottledUntil(ctx context.Context, channel bot.ChannelName) (time.Time, error)
	SetThrottledUntil(ctx context.Context, channel bot.ChannelName, until time.Time) error
}

// RunPause runs the tests of the kill switch and throttles, each on a new
// backend.
func RunPause(t *testing.T, open func(t *testing.T) PauseBackend) {
	t.Run("Pause", func(t *testing.T) { testPause(t, open(t)) })
	t.Run("Throttle", func(t *testing.T) { testThrottle(t, open(t)) })
	t.Run("ConcurrentThrottle", func(t *testing.T) { testConcurrentThrottle(t, open(t)) })
}

func testPause(t *testing.T, b PauseBackend) {
	p, err := b.Pause(ctx)
	require.NoError(t, err)
	require.Equal(t, store.Pause{}, p, "unset is not paused")
	on := store.Pause{Paused: true, By: 7, At: time.Date(2026, 3, 1, 9, 0, 0, 42, time.UTC)}
	require.NoError(t, b.SetPause(ctx, on))
	p, err = b.Pause(ctx)
	require.NoError(t, err)
	require.Equal(t, on, p)
	require.NoError(t, b.SetPause(ctx, store.Pause{}))
	p, err = b.Pause(ctx)
	require.NoError(t, err)
	require.False(t, p.Paused)
}

func testThrottle(t *testing.T, b PauseBackend) {
	until, err := b.ThrottledUntil(ctx, "telegram")
	require.NoError(t, err)
	require.True(t, until.IsZero())
	at := time.Date(2026, 12, 1, 10, 0, 7, 500, time.UTC)
	require.NoError(t, b.SetThrottledUntil(ctx, "telegram", at))
	require.NoError(t, b.SetThrottledUntil(ctx, "telegram", at.Add(-time.Second)), "an earlier deadline")
	r, ok := b.(Reopener)
	require.True(t, ok, "%T cannot be reopened", b)
	nb, err := r.Reopen()
	require.NoError(t, err)
	b = nb.(PauseBackend)
	until, err = b.ThrottledUntil(ctx, "telegram")
	require.NoError(t, err)
	require.True(t, at.Equal(until), "kept to the nanosecond across a restart: got %s", until)
	other, err := b.ThrottledUntil(ctx, "whatsapp")
	require.NoError(t, err)
	require.True(t, other.IsZero(), "channels are apart")
	later := at.Add(time.Minute)
	require.NoError(t, b.SetThrottledUntil(ctx, "telegram", later))
	until, err = b.ThrottledUntil(ctx, "telegram")
	require.NoError(t, err)
	require.True(t, later.Equal(until))
}

// testConcurrentThrottle: of times set at once, the latest is kept.
func testConcurrentThrottle(t *testing.T, b PauseBackend) {
	base := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			if err := b.SetThrottledUntil(ctx, "telegram", base.Add(time.Duration((i*7)%16)*time.Second)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	until, err := b.ThrottledUntil(ctx, "telegram")
	require.NoError(t, err)
	require.True(t, base.Add(15*time.Second).Equal(until), "got %s", until)
}
