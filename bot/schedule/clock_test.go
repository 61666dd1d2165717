package schedule

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseClock(t *testing.T) {
	for in, want := range map[string]Clock{
		"18:00": {18, 0}, "6 pm": {18, 0}, "6:30 pm": {18, 30}, "٦ مساءً": {18, 0}, "الساعة ٩ صباحا": {9, 0},
		"at 9 am": {9, 0}, "00:30": {0, 30}, "13:15": {13, 15},
	} {
		got, err := ParseClock(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := ParseClock("6")
	var amb *AmbiguousError
	require.ErrorAs(t, err, &amb, "6 in the morning or the evening")
	assert.Equal(t, 6, amb.Options[0].Hour)
	assert.Equal(t, 18, amb.Options[1].Hour)
	for _, in := range []string{"", "friday", "every friday 6 pm", "25:00", "soon"} {
		_, err := ParseClock(in)
		assert.True(t, errors.Is(err, ErrNotUnderstood), "%q: %v", in, err)
	}
	loc, err := time.LoadLocation("Asia/Hebron")
	require.NoError(t, err)
	day := time.Date(2026, 12, 10, 22, 30, 0, 0, time.UTC) // 00:30 on the 11th in Hebron
	assert.True(t, Clock{18, 0}.On(day, loc).Equal(time.Date(2026, 12, 11, 18, 0, 0, 0, loc)))
}

func TestParseClockWithThePeriodAfter(t *testing.T) {
	for in, want := range map[string]Clock{"6:00 مساء": {18, 0}, "6:00 pm": {18, 0}, "6:00 صباحا": {6, 0}, "6:00 in the evening": {18, 0}, "6:30 بالليل": {18, 30}} {
		got, err := ParseClock(in)
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, got, in)
		}
	}
}
