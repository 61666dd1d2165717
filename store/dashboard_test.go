package store

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"mobilise/bot"
)

func TestLoginTokenWorksOnce(t *testing.T) {
	s, clock := openTestStore(t)
	ctx := context.Background()
	hash := sha256.Sum256([]byte("secret"))
	from := bot.MustParseAddress("telegram:42")
	require.NoError(t, s.PutLoginToken(ctx, hash[:], LoginToken{ContactID: 7, From: from, Lang: "ar", Expires: clock.Now().Add(5 * time.Minute)}))

	other := sha256.Sum256([]byte("guess"))
	_, err := s.TakeLoginToken(ctx, other[:], clock.Now())
	assert.ErrorIs(t, err, ErrNotFound)

	got, err := s.TakeLoginToken(ctx, hash[:], clock.Now())
	require.NoError(t, err)
	assert.Equal(t, uint64(7), got.ContactID)
	assert.Equal(t, from, got.From)
	_, err = s.TakeLoginToken(ctx, hash[:], clock.Now())
	assert.ErrorIs(t, err, ErrNotFound, "a link works once")

	require.NoError(t, s.PutLoginToken(ctx, hash[:], LoginToken{ContactID: 7, Expires: clock.Now().Add(time.Minute)}))
	_, err = s.TakeLoginToken(ctx, hash[:], clock.Now().Add(time.Minute))
	assert.ErrorIs(t, err, ErrNotFound, "an expired link is refused")
	_, err = s.TakeLoginToken(ctx, hash[:], clock.Now())
	assert.ErrorIs(t, err, ErrNotFound, "and deleted")
}

func TestWebSessions(t *testing.T) {
	s, clock := openTestStore(t)
	ctx := context.Background()
	now := clock.Now()
	key := func(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }
	ws := WebSession{ContactID: 7, CSRF: "c", CreatedAt: now, SeenAt: now, Expires: now.Add(30 * time.Minute)}
	require.NoError(t, s.PutWebSession(ctx, key("a"), ws))
	ws.ContactID = 8
	require.NoError(t, s.PutWebSession(ctx, key("b"), ws))
	require.NoError(t, s.PutWebSession(ctx, key("c"), ws))

	got, err := s.WebSession(ctx, key("a"), now)
	require.NoError(t, err)
	assert.Equal(t, uint64(7), got.ContactID)
	_, err = s.WebSession(ctx, key("a"), now.Add(30*time.Minute))
	assert.ErrorIs(t, err, ErrNotFound, "an idle session has expired")
	n, err := s.WebSessionCount(ctx, now)
	require.NoError(t, err)
	assert.Equal(t, 3, n)

	ended, err := s.DeleteWebSessions(ctx, 8)
	require.NoError(t, err)
	assert.Equal(t, 2, ended, "one person's sessions")
	_, err = s.WebSession(ctx, key("a"), now)
	assert.NoError(t, err, "another person's session stays")

	require.NoError(t, s.DeleteWebSession(ctx, key("a")))
	require.NoError(t, s.DeleteWebSession(ctx, key("a")), "ending it twice is fine")
	require.NoError(t, s.PutWebSession(ctx, key("d"), ws))
	require.NoError(t, s.PutLoginToken(ctx, key("t"), LoginToken{ContactID: 9, Expires: now.Add(time.Minute)}))
	ended, err = s.DeleteWebSessions(ctx, 0)
	require.NoError(t, err)
	assert.Equal(t, 1, ended, "everyone's")
	_, err = s.TakeLoginToken(ctx, key("t"), now)
	assert.ErrorIs(t, err, ErrNotFound, "links not yet used go too")
}

func TestExpiredSignInsArePruned(t *testing.T) {
	s, clock := openTestStore(t)
	ctx := context.Background()
	now := clock.Now()
	for i := range 5 {
		h := sha256.Sum256([]byte{byte(i)})
		require.NoError(t, s.PutLoginToken(ctx, h[:], LoginToken{ContactID: 1, Expires: now.Add(time.Minute)}))
	}
	clock.Add(2 * time.Minute)
	h := sha256.Sum256([]byte("fresh"))
	require.NoError(t, s.PutLoginToken(ctx, h[:], LoginToken{ContactID: 1, Expires: clock.Now().Add(time.Minute)}))
	keys := 0
	require.NoError(t, s.DB().View(func(tx *bbolt.Tx) error {
		keys = tx.Bucket(bucketDashboard).Stats().KeyN
		return nil
	}))
	assert.Equal(t, 1, keys, "the expired links were pruned")
}

func TestActivityByDay(t *testing.T) {
	s, clock := openTestStore(t)
	ctx := context.Background()
	loc, err := time.LoadLocation("Asia/Hebron")
	require.NoError(t, err)
	camp := &Campaign{Code: "olive", TitleAR: "زيتون", Kind: KindBoth, StartAt: clock.Now()}
	require.NoError(t, s.CreateCampaign(ctx, camp))
	none, err := s.ActivityByDay(ctx, camp.ID, loc)
	require.NoError(t, err)
	assert.Empty(t, none)

	day1 := time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC) // already 2 March in Hebron
	for i, at := range []time.Time{day1, day1.Add(time.Hour), day1.Add(72 * time.Hour)} {
		c, _, err := s.EnsureContact(ctx, bot.Address{Channel: bot.Telegram, ID: string(rune('1' + i))}, "", "ar")
		require.NoError(t, err)
		_, err = s.AddPledge(ctx, Pledge{CampaignID: camp.ID, ContactID: c.ID, At: at})
		require.NoError(t, err)
		if i == 0 {
			_, err = s.AddSignup(ctx, Signup{CampaignID: camp.ID, ContactID: c.ID, At: at})
			require.NoError(t, err)
		}
	}
	days, err := s.ActivityByDay(ctx, camp.ID, loc)
	require.NoError(t, err)
	require.Len(t, days, 4, "2 to 5 March, the days between included")
	assert.Equal(t, time.Date(2026, 3, 2, 0, 0, 0, 0, loc), days[0].Day)
	assert.Equal(t, DayCount{Day: days[0].Day, Pledges: 2, Signups: 1}, days[0])
	assert.Equal(t, 0, days[1].Pledges)
	assert.Equal(t, 1, days[3].Pledges)
}
