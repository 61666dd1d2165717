package bot

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuietHours(t *testing.T) {
	loc, err := time.LoadLocation("Asia/Hebron")
	require.NoError(t, err)
	q, err := ParseQuietHours("22:00-07:00, fri 11:30-13:30")
	require.NoError(t, err)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		require.NoError(t, err)
		return v
	}
	cases := []struct{ at, want string }{
		{"2026-12-07 12:00", ""},                 // Monday noon: send
		{"2026-12-07 22:00", "2026-12-08 07:00"}, // the night starts
		{"2026-12-08 03:15", "2026-12-08 07:00"}, // after midnight
		{"2026-12-08 07:00", ""},                 // the night is over
		{"2026-12-11 12:00", "2026-12-11 13:30"}, // Friday prayers
		{"2026-12-11 13:30", ""},
		{"2026-12-10 21:59", ""},
	}
	for _, c := range cases {
		got := q.HoldUntil(at(c.at), loc)
		if c.want == "" {
			assert.True(t, got.IsZero(), "%s: held until %s", c.at, got)
			continue
		}
		assert.True(t, got.Equal(at(c.want)), "%s: want %s, got %s", c.at, c.want, got.In(loc))
	}
	off, err := ParseQuietHours("off")
	require.NoError(t, err)
	assert.True(t, off.HoldUntil(at("2026-12-07 23:00"), loc).IsZero())
	for _, bad := range []string{"22-07", "xyz 10:00-11:00", "fri 13:00-12:00", "10:00-11:00, 12:00-13:00"} {
		_, err := ParseQuietHours(bad)
		assert.Error(t, err, bad)
	}
}
