package conform

import (
	"context"
	"testing"
	"time"

	"mobilise/bot"
	"mobilise/store"

	"github.com/stretchr/testify/require"
)

// ActivityBackend is a Backend that counts a campaign's activity by day.
type ActivityBackend interface {
	ContactsBackend
	ActivityByDay(ctx context.Context, campaignID uint64, loc *time.Location) ([]store.DayCount, error)
}

// RunActivity runs the tests of activity by day, each on a new backend.
func RunActivity(t *testing.T, open func(t *testing.T) ActivityBackend) {
	t.Run("ActivityByDay", func(t *testing.T) { testActivity(t, open(t)) })
}

func testActivity(t *testing.T, b ActivityBackend) {
	loc := time.FixedZone("Asia/Hebron", 2*3600)
	camp := campaign(t, b, "olive", 0)
	none, err := b.ActivityByDay(ctx, camp.ID, loc)
	require.NoError(t, err)
	require.Empty(t, none)

	day1 := time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC) // already 2 March in Hebron
	var first *store.Contact
	for i, at := range []time.Time{day1, day1.Add(time.Hour), day1.Add(72 * time.Hour)} {
		c, _, err := b.EnsureContact(ctx, bot.Address{Channel: bot.Telegram, ID: string(rune('1' + i))}, "", "ar")
		require.NoError(t, err)
		_, err = b.AddPledge(ctx, store.Pledge{CampaignID: camp.ID, ContactID: c.ID, At: at})
		require.NoError(t, err)
		if i == 0 {
			first = c
			_, err = b.AddSignup(ctx, store.Signup{CampaignID: camp.ID, ContactID: c.ID, At: at})
			require.NoError(t, err)
		}
	}
	days, err := b.ActivityByDay(ctx, camp.ID, loc)
	require.NoError(t, err)
	require.Len(t, days, 4, "2 to 5 March, the days between included")
	require.True(t, time.Date(2026, 3, 2, 0, 0, 0, 0, loc).Equal(days[0].Day))
	require.Equal(t, loc, days[0].Day.Location())
	require.Equal(t, []store.DayCount{
		{Day: days[0].Day, Pledges: 2, Signups: 1},
		{Day: days[0].Day.AddDate(0, 0, 1)},
		{Day: days[0].Day.AddDate(0, 0, 2)},
		{Day: days[0].Day.AddDate(0, 0, 3), Pledges: 1},
	}, days)

	// a forgotten person's pledge still counts, their sign-up no longer
	require.NoError(t, b.ForgetContact(ctx, first.ID))
	days, err = b.ActivityByDay(ctx, camp.ID, loc)
	require.NoError(t, err)
	require.Equal(t, store.DayCount{Day: days[0].Day, Pledges: 2}, days[0])
	other, err := b.ActivityByDay(ctx, camp.ID+9, loc)
	require.NoError(t, err)
	require.Empty(t, other)
}
