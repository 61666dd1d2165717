package conform

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"mobilise/store"

	"github.com/stretchr/testify/require"
)

// CampaignsBackend is a Backend that lists and edits campaigns.
type CampaignsBackend interface {
	Backend
	Campaigns(ctx context.Context) ([]store.Campaign, error)
	UpdateCampaign(ctx context.Context, id uint64, fn func(*store.Campaign) error) (*store.Campaign, error)
}

// RunCampaigns runs the tests of campaigns, each on a new backend.
func RunCampaigns(t *testing.T, open func(t *testing.T) CampaignsBackend) {
	t.Run("UpdateCampaign", func(t *testing.T) { testUpdateCampaign(t, open(t)) })
	t.Run("ConcurrentCodeChange", func(t *testing.T) { testConcurrentCodeChange(t, open(t)) })
}

func testUpdateCampaign(t *testing.T, b CampaignsBackend) {
	all, err := b.Campaigns(ctx)
	require.NoError(t, err)
	require.Empty(t, all)
	olive := campaign(t, b, "Olive", 10)
	water := campaign(t, b, "water", 0)
	all, err = b.Campaigns(ctx)
	require.NoError(t, err)
	require.Equal(t, []store.Campaign{*olive, *water}, all, "in ID order")

	got, err := b.UpdateCampaign(ctx, olive.ID, func(c *store.Campaign) error {
		c.ID, c.Code, c.Target = 99, "  Zaytoun ", 20
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, olive.ID, got.ID, "the ID cannot change")
	require.Equal(t, "zaytoun", got.Code, "lower-cased")
	require.Equal(t, 20, got.Target)
	byCode, err := b.CampaignByCode(ctx, "ZAYTOUN")
	require.NoError(t, err)
	require.Equal(t, olive.ID, byCode.ID)
	_, err = b.CampaignByCode(ctx, "olive")
	require.ErrorIs(t, err, store.ErrNotFound, "the old code is free")
	require.NotNil(t, campaign(t, b, "olive", 0), "and can be taken")

	_, err = b.UpdateCampaign(ctx, olive.ID, func(c *store.Campaign) error {
		c.Code = "WATER"
		return nil
	})
	require.ErrorIs(t, err, store.ErrCodeTaken)
	_, err = b.UpdateCampaign(ctx, olive.ID, func(c *store.Campaign) error {
		c.Code = ""
		return nil
	})
	require.Error(t, err, "a campaign needs a code")
	boom := errors.New("boom")
	_, err = b.UpdateCampaign(ctx, olive.ID, func(c *store.Campaign) error {
		c.Target = 1
		return boom
	})
	require.ErrorIs(t, err, boom)
	read, err := b.Campaign(ctx, olive.ID)
	require.NoError(t, err)
	require.Equal(t, *got, *read, "nothing written by the refused edits")
	_, err = b.UpdateCampaign(ctx, water.ID+50, func(*store.Campaign) error { return nil })
	require.ErrorIs(t, err, store.ErrNotFound)
}

// testConcurrentCodeChange: two campaigns taking one code at once, one
// gets it.
func testConcurrentCodeChange(t *testing.T, b CampaignsBackend) {
	var cs []*store.Campaign
	for _, code := range []string{"a1", "a2", "a3", "a4"} {
		cs = append(cs, campaign(t, b, code, 0))
	}
	var won atomic.Int32
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(func() {
			_, err := b.UpdateCampaign(ctx, c.ID, func(c *store.Campaign) error {
				c.Code = "shared"
				return nil
			})
			switch {
			case err == nil:
				won.Add(1)
			case !errors.Is(err, store.ErrCodeTaken):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	require.Equal(t, int32(1), won.Load())
	got, err := b.CampaignByCode(ctx, "shared")
	require.NoError(t, err)
	n := 0
	all, err := b.Campaigns(ctx)
	require.NoError(t, err)
	for _, c := range all {
		if c.Code == "shared" {
			n++
			require.Equal(t, got.ID, c.ID)
		}
	}
	require.Equal(t, 1, n)
}
