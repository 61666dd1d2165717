package bot

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSchedule(t *testing.T) {
	cases := map[string]string{
		"every Friday at 10:00":   "0 10 * * 5",
		"كل جمعة الساعة ١٠:٠٠":    "0 10 * * 5",
		"كل يوم ٦:٣٠":             "30 6 * * *",
		"daily 18:30":             "30 18 * * *",
		"every day at 9":          "0 9 * * *",
		"الأحد 08:15":             "15 8 * * 0",
		"0 10 * * 5":              "0 10 * * 5",
		"*/30 * * * *":            "*/30 * * * *",
		"every saturday 7:05":     "5 7 * * 6",
		"كل ثلاثاء الساعة 17:00":  "0 17 * * 2",
		"EVERY MONDAY AT 12:00  ": "0 12 * * 1",
	}
	for in, want := range cases {
		got, err := parseSchedule(in)
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, got, in)
		}
	}
	for _, bad := range []string{"", "sometimes", "every friday", "كل يوم", "99 99 * * *", "0 10 * *"} {
		_, err := parseSchedule(bad)
		assert.ErrorIs(t, err, errBadSchedule, bad)
	}
}

func TestNextFireIsInTheCoalitionsTimeZone(t *testing.T) {
	loc, err := time.LoadLocation("Asia/Hebron")
	require.NoError(t, err)
	monday := time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)
	next, err := nextFire("0 10 * * 5", monday, loc)
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 12, 11, 10, 0, 0, 0, loc).UTC(), next)
	_, err = nextFire("nonsense", monday, loc)
	assert.Error(t, err)
}
