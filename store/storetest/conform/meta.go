package conform

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mobilise/bot"

	"github.com/stretchr/testify/require"
)

// Clock is a backend whose clock, which stamps what the store stamps
// itself, the suite moves.
type Clock interface {
	Now() time.Time
	Advance(d time.Duration)
}

// MetaBackend is a Backend that keeps the Telegram offset and the marks of
// handled updates, with a clock the suite moves.
type MetaBackend interface {
	Backend
	Clock
	TelegramOffset(ctx context.Context) (int64, error)
	SetTelegramOffset(ctx context.Context, offset int64) error
	MarkHandled(ctx context.Context, channel bot.ChannelName, id string) (bool, error)
}

// RunMeta runs the tests of the Telegram offset and of handled updates,
// each on a new backend.
func RunMeta(t *testing.T, open func(t *testing.T) MetaBackend) {
	t.Run("TelegramOffset", func(t *testing.T) { testTelegramOffset(t, open(t)) })
	t.Run("MarkHandled", func(t *testing.T) { testMarkHandled(t, open(t)) })
	t.Run("ConcurrentMarkHandled", func(t *testing.T) { testConcurrentMarkHandled(t, open(t)) })
	t.Run("MarkHandledInTransaction", func(t *testing.T) { testMarkHandledInTx(t, open(t)) })
	t.Run("MarkHandledForgets", func(t *testing.T) { testMarkHandledForgets(t, open(t)) })
}

func testTelegramOffset(t *testing.T, b MetaBackend) {
	off, err := b.TelegramOffset(ctx)
	require.NoError(t, err)
	require.Zero(t, off)
	require.NoError(t, b.SetTelegramOffset(ctx, 123456789012))
	off, err = b.TelegramOffset(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(123456789012), off)
	require.NoError(t, b.SetTelegramOffset(ctx, 5))
	off, err = b.TelegramOffset(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(5), off, "the offset saved last")
	if r, ok := b.(Reopener); ok {
		nb, err := r.Reopen()
		require.NoError(t, err)
		off, err = nb.(MetaBackend).TelegramOffset(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(5), off, "after a restart")
	}
}

func mark(t *testing.T, b MetaBackend, channel bot.ChannelName, id string) bool {
	t.Helper()
	first, err := b.MarkHandled(ctx, channel, id)
	require.NoError(t, err)
	return first
}

func testMarkHandled(t *testing.T, b MetaBackend) {
	require.True(t, mark(t, b, "telegram", "10"))
	require.False(t, mark(t, b, "telegram", "10"))
	require.True(t, mark(t, b, "whatsapp", "10"), "channels are apart")
	require.True(t, mark(t, b, "whatsapp", "3EB0A1B2C3"), "message IDs that are not numbers")
	require.False(t, mark(t, b, "whatsapp", "3EB0A1B2C3"))
	require.True(t, mark(t, b, "whatsapp", "3eb0a1b2c3"), "IDs are case-sensitive")
	require.True(t, mark(t, b, "telegram", "010"), "a number not written canonically is another ID")
	_, err := b.MarkHandled(ctx, "", "1")
	require.Error(t, err)
	_, err = b.MarkHandled(ctx, "telegram", "")
	require.Error(t, err)
}

// testConcurrentMarkHandled delivers the same updates to many workers at
// once: each is handled once.
func testConcurrentMarkHandled(t *testing.T, b MetaBackend) {
	const updates, workers = 5, 12
	var firsts [updates]atomic.Int32
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for u := range updates {
				id := strconv.Itoa((u + w) % updates)
				first, err := b.MarkHandled(ctx, "telegram", id)
				if err != nil {
					t.Error(err)
					return
				}
				if first {
					firsts[(u+w)%updates].Add(1)
				}
			}
		})
	}
	wg.Wait()
	for u := range updates {
		require.Equal(t, int32(1), firsts[u].Load(), "update %d", u)
	}
}

// testMarkHandledInTx: a mark made in a unit of work that fails is not
// kept, so the update is handled again; one that commits is.
func testMarkHandledInTx(t *testing.T, b MetaBackend) {
	boom := errors.New("boom")
	err := b.InTx(ctx, func(ctx context.Context) error {
		first, err := b.MarkHandled(ctx, "telegram", "20")
		if err != nil {
			return err
		}
		require.True(t, first)
		first, err = b.MarkHandled(ctx, "telegram", "20")
		if err != nil {
			return err
		}
		require.False(t, first, "seen inside its own transaction")
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.NoError(t, b.InTx(ctx, func(ctx context.Context) error {
		first, err := b.MarkHandled(ctx, "telegram", "20")
		require.True(t, first, "the rolled-back mark is gone")
		return err
	}))
	require.False(t, mark(t, b, "telegram", "20"))
}

// testMarkHandledForgets: a mark is remembered for 48 hours, then expires
// as later updates are marked.
func testMarkHandledForgets(t *testing.T, b MetaBackend) {
	require.True(t, mark(t, b, "telegram", "1"))
	b.Advance(47 * time.Hour)
	require.True(t, mark(t, b, "telegram", "2"))
	require.False(t, mark(t, b, "telegram", "1"), "47 hours old: remembered")
	b.Advance(time.Hour + 2*time.Second)
	require.True(t, mark(t, b, "telegram", "3"), "a new mark clears expired ones")
	require.True(t, mark(t, b, "telegram", "1"), "48 hours old: forgotten")
	require.False(t, mark(t, b, "telegram", "2"), "an hour old: remembered")
	require.False(t, mark(t, b, "telegram", "3"))
}
