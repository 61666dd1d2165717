package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCampaigns(t *testing.T) {
	s, clock := openTestStore(t)
	c := &Campaign{Code: " Peace2026 ", TitleAR: "سلام", Kind: KindPledge, Target: 1000,
		StartAt: clock.Now(), ReminderOffsets: []time.Duration{24 * time.Hour}}
	require.NoError(t, s.CreateCampaign(context.Background(), c))
	assert.Equal(t, uint64(1), c.ID)
	assert.Equal(t, "peace2026", c.Code)
	assert.Equal(t, clock.Now(), c.CreatedAt)

	err := s.CreateCampaign(context.Background(), &Campaign{Code: "PEACE2026"})
	assert.ErrorIs(t, err, ErrCodeTaken)
	assert.Error(t, s.CreateCampaign(context.Background(), &Campaign{Code: "  "}))
	e := &Campaign{Code: "unity", Kind: KindEvent}
	require.NoError(t, s.CreateCampaign(context.Background(), e))
	assert.Equal(t, uint64(2), e.ID, "a refused campaign used no ID")

	got, err := s.Campaign(context.Background(), c.ID)
	require.NoError(t, err)
	assert.Equal(t, c, got)
	got, err = s.CampaignByCode(context.Background(), "PEACE2026")
	require.NoError(t, err)
	assert.Equal(t, c.ID, got.ID)
	_, err = s.Campaign(context.Background(), 99)
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = s.CampaignByCode(context.Background(), "nope")
	assert.ErrorIs(t, err, ErrNotFound)

	all, err := s.Campaigns(context.Background())
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.Equal(t, "peace2026", all[0].Code)
	assert.Equal(t, "unity", all[1].Code)

	got, err = s.UpdateCampaign(context.Background(), c.ID, func(c *Campaign) error {
		c.ID = 5
		c.Code = "Salam"
		c.Closed = true
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, c.ID, got.ID)
	assert.Equal(t, "salam", got.Code)
	_, err = s.CampaignByCode(context.Background(), "peace2026")
	assert.ErrorIs(t, err, ErrNotFound)
	got, err = s.CampaignByCode(context.Background(), "SALAM")
	require.NoError(t, err)
	assert.True(t, got.Closed)

	_, err = s.UpdateCampaign(context.Background(), c.ID, func(c *Campaign) error { c.Code = "unity"; return nil })
	assert.ErrorIs(t, err, ErrCodeTaken)
	_, err = s.UpdateCampaign(context.Background(), c.ID, func(c *Campaign) error { c.Code = ""; return nil })
	assert.Error(t, err)
	boom := errors.New("boom")
	_, err = s.UpdateCampaign(context.Background(), c.ID, func(c *Campaign) error { c.Code = "other"; return boom })
	assert.ErrorIs(t, err, boom)
	_, err = s.CampaignByCode(context.Background(), "other")
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = s.UpdateCampaign(context.Background(), 99, func(*Campaign) error { return nil })
	assert.ErrorIs(t, err, ErrNotFound)
}
