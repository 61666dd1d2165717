package conform

import (
	"context"
	"errors"
	"sync"
	"testing"

	"mobilise/store"

	"github.com/stretchr/testify/require"
)

// WatchersBackend is a Backend that keeps who waits for a campaign to open.
type WatchersBackend interface {
	ContactsBackend
	AddWatch(ctx context.Context, campaignID, contactID uint64) (bool, error)
	Watching(ctx context.Context, campaignID, contactID uint64) (bool, error)
	TakeWatchers(ctx context.Context, campaignID uint64) ([]store.Watch, error)
}

// RunWatchers runs the tests of watchers, each on a new backend.
func RunWatchers(t *testing.T, open func(t *testing.T) WatchersBackend) {
	t.Run("Watchers", func(t *testing.T) { testWatchers(t, open(t)) })
	t.Run("ConcurrentTakeWatchers", func(t *testing.T) { testConcurrentTakeWatchers(t, open(t)) })
}

func testWatchers(t *testing.T, b WatchersBackend) {
	camp, other := campaign(t, b, "olive", 0), campaign(t, b, "water", 0)
	a, c, gone := person(t, b, "telegram:1", nil), person(t, b, "telegram:2", nil), person(t, b, "telegram:3", nil)
	for _, id := range []uint64{c.ID, a.ID, gone.ID} {
		added, err := b.AddWatch(ctx, camp.ID, id)
		require.NoError(t, err)
		require.True(t, added)
	}
	added, err := b.AddWatch(ctx, camp.ID, a.ID)
	require.NoError(t, err)
	require.False(t, added, "asking twice keeps the first")
	added, err = b.AddWatch(ctx, other.ID, a.ID)
	require.NoError(t, err)
	require.True(t, added)
	_, err = b.AddWatch(ctx, other.ID+9, a.ID)
	require.ErrorIs(t, err, store.ErrCampaignNotFound)
	_, err = b.AddWatch(ctx, camp.ID, gone.ID+9)
	require.ErrorIs(t, err, store.ErrNotFound)
	on, err := b.Watching(ctx, camp.ID, a.ID)
	require.NoError(t, err)
	require.True(t, on)
	on, err = b.Watching(ctx, other.ID, c.ID)
	require.NoError(t, err)
	require.False(t, on)

	require.NoError(t, b.ForgetContact(ctx, gone.ID))
	boom := errors.New("boom")
	require.ErrorIs(t, b.InTx(ctx, func(ctx context.Context) error {
		ws, err := b.TakeWatchers(ctx, camp.ID)
		if err != nil {
			return err
		}
		require.Len(t, ws, 2)
		return boom
	}), boom)
	ws, err := b.TakeWatchers(ctx, camp.ID)
	require.NoError(t, err)
	require.Len(t, ws, 2, "a forgotten person's request goes with them; a failed unit of work takes none")
	require.Equal(t, []uint64{a.ID, c.ID}, []uint64{ws[0].ContactID, ws[1].ContactID}, "in contact order")
	for _, w := range ws {
		require.Equal(t, camp.ID, w.CampaignID)
		require.False(t, w.At.IsZero())
	}
	ws, err = b.TakeWatchers(ctx, camp.ID)
	require.NoError(t, err)
	require.Empty(t, ws, "each is told once")
	on, err = b.Watching(ctx, camp.ID, a.ID)
	require.NoError(t, err)
	require.False(t, on)
	on, err = b.Watching(ctx, other.ID, a.ID)
	require.NoError(t, err)
	require.True(t, on, "other campaigns' stay")
}

// testConcurrentTakeWatchers: instances taking a campaign's watchers at
// once tell each person once.
func testConcurrentTakeWatchers(t *testing.T, b WatchersBackend) {
	camp := campaign(t, b, "olive", 0)
	const people = 20
	for i := range people {
		c := person(t, b, "whatsapp:97"+string(rune('a'+i)), nil)
		_, err := b.AddWatch(ctx, camp.ID, c.ID)
		require.NoError(t, err)
	}
	var mu sync.Mutex
	told := map[uint64]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			ws, err := b.TakeWatchers(ctx, camp.ID)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, w := range ws {
				told[w.ContactID]++
			}
		})
	}
	wg.Wait()
	require.Len(t, told, people)
	for id, n := range told {
		require.Equal(t, 1, n, "contact %d", id)
	}
}
