package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
)

func TestCallsAreFoundByCodeAndByWhatSentThem(t *testing.T) {
	s, clock := openTestStore(t)
	ctx := context.Background()
	c := &Call{Code: "K7P2QX9MRT", Kind: "broadcast", RefID: 3, CampaignID: 1, TextAR: "نص", TextEN: "text"}
	require.NoError(t, s.PutCall(ctx, c))
	assert.Equal(t, clock.Now().UTC(), c.At, "stamped now")
	got, err := s.Call(ctx, "K7P2QX9MRT")
	require.NoError(t, err)
	assert.Equal(t, *c, *got)
	byRef, err := s.CallOf(ctx, "broadcast", 3)
	require.NoError(t, err)
	assert.Equal(t, "K7P2QX9MRT", byRef.Code)
	_, err = s.CallOf(ctx, "reminder", 3)
	assert.ErrorIs(t, err, ErrNotFound, "kinds do not mix")
	_, err = s.Call(ctx, "NOSUCHCODE")
	assert.ErrorIs(t, err, ErrNotFound)
	assert.ErrorIs(t, s.PutCall(ctx, &Call{Code: "K7P2QX9MRT", Kind: "reminder", RefID: 1}), ErrCodeTaken, "a code is never reused")

	// a reminder's later firing is its latest call; the earlier stays valid
	require.NoError(t, s.PutCall(ctx, &Call{Code: "AAAAABBBBB", Kind: "reminder", RefID: 5}))
	require.NoError(t, s.PutCall(ctx, &Call{Code: "CCCCCDDDDD", Kind: "reminder", RefID: 5}))
	latest, err := s.CallOf(ctx, "reminder", 5)
	require.NoError(t, err)
	assert.Equal(t, "CCCCCDDDDD", latest.Code)
	_, err = s.Call(ctx, "AAAAABBBBB")
	assert.NoError(t, err)
}

func TestVerifyFailuresCountPerMarkForAnHour(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	mark, err := s.AddressMark(ctx, bot.MustParseAddress("telegram:1"))
	require.NoError(t, err)
	other, err := s.AddressMark(ctx, bot.MustParseAddress("telegram:2"))
	require.NoError(t, err)
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	for i := range 3 {
		require.NoError(t, s.AddVerifyFailure(ctx, mark, t0.Add(time.Duration(i)*20*time.Minute)))
	}
	fails, err := s.VerifyFailures(ctx, mark, t0.Add(45*time.Minute))
	require.NoError(t, err)
	assert.Len(t, fails, 3)
	fails, err = s.VerifyFailures(ctx, mark, t0.Add(61*time.Minute))
	require.NoError(t, err)
	assert.Len(t, fails, 2, "the first has aged out")
	fails, err = s.VerifyFailures(ctx, other, t0.Add(45*time.Minute))
	require.NoError(t, err)
	assert.Empty(t, fails, "another address has its own count")
	link, err := s.LinkFailures(ctx, mark, t0.Add(45*time.Minute))
	require.NoError(t, err)
	assert.Empty(t, link, "wrong /link codes are counted apart")
}
