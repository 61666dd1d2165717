package store

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
)

func TestWatchers(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	c := campaign(t, s, "walk", 0)
	other := campaign(t, s, "vigil", 0)
	a, _, err := s.EnsureContact(ctx, bot.MustParseAddress("telegram:1"), "", "")
	require.NoError(t, err)
	b, _, err := s.EnsureContact(ctx, bot.MustParseAddress("whatsapp:970599000001"), "", "")
	require.NoError(t, err)
	gone, _, err := s.EnsureContact(ctx, bot.MustParseAddress("telegram:3"), "", "")
	require.NoError(t, err)

	added, err := s.AddWatch(ctx, c.ID, a.ID)
	require.NoError(t, err)
	assert.True(t, added)
	added, err = s.AddWatch(ctx, c.ID, a.ID)
	require.NoError(t, err)
	assert.False(t, added, "asking twice keeps one request")
	for _, id := range []uint64{b.ID, gone.ID} {
		_, err = s.AddWatch(ctx, c.ID, id)
		require.NoError(t, err)
	}
	_, err = s.AddWatch(ctx, other.ID, b.ID)
	require.NoError(t, err)
	_, err = s.AddWatch(ctx, 99, a.ID)
	assert.ErrorIs(t, err, ErrCampaignNotFound)

	// forgetting removes the request; a merge moves it, once
	require.NoError(t, s.ForgetContact(ctx, gone.ID))
	_, err = s.LinkAddresses(ctx, a.ID, b.ID)
	require.NoError(t, err)
	watching, err := s.Watching(ctx, other.ID, a.ID)
	require.NoError(t, err)
	assert.True(t, watching, "the merged account's request moved")

	ws, err := s.TakeWatchers(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, ws, 1, "one person after the merge, the forgotten one gone")
	assert.Equal(t, a.ID, ws[0].ContactID)
	ws, err = s.TakeWatchers(ctx, c.ID)
	require.NoError(t, err)
	assert.Empty(t, ws, "each is told once")
	require.NoError(t, s.Check())
}
