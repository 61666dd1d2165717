package schedule

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func at(t *testing.T, loc *time.Location, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	require.NoError(t, err)
	return v
}

// TestQuietHours keeps the behaviour quiet hours had before they moved here.
func TestQuietHours(t *testing.T) {
	loc := hebron(t)
	q, err := ParseQuietHours("22:00-07:00, fri 11:30-13:30")
	require.NoError(t, err)
	for _, c := range []struct{ at, want string }{
		{"2026-12-07 12:00", ""},                 // Monday noon: send
		{"2026-12-07 22:00", "2026-12-08 07:00"}, // the night starts
		{"2026-12-08 03:15", "2026-12-08 07:00"}, // after midnight
		{"2026-12-08 07:00", ""},                 // the night is over
		{"2026-12-11 12:00", "2026-12-11 13:30"}, // Friday prayers
		{"2026-12-11 13:30", ""},
		{"2026-12-10 21:59", ""},
	} {
		got := q.HoldUntil(at(t, loc, c.at), loc)
		if c.want == "" {
			assert.True(t, got.IsZero(), "%s: held until %s", c.at, got)
			continue
		}
		assert.Equal(t, c.want, local(got, loc), c.at)
	}
	off, err := ParseQuietHours("off")
	require.NoError(t, err)
	assert.True(t, off.HoldUntil(at(t, loc, "2026-12-07 23:00"), loc).IsZero())
	for _, bad := range []string{"22-07", "xyz 10:00-11:00", "fri 13:00-12:00", "10:00-11:00, 12:00-13:00", "22:00"} {
		_, err := ParseQuietHours(bad)
		assert.Error(t, err, bad)
	}
	arabic, err := ParseQuietHours("٢٢:٠٠-٠٧:٠٠,fri ١١:٣٠-١٣:٣٠")
	require.NoError(t, err)
	assert.Equal(t, q, arabic)
	assert.Equal(t, "22:00-07:00,fri 11:30-13:30", q.String())
	back, err := ParseQuietHours(q.String())
	require.NoError(t, err)
	assert.Equal(t, q, back)
	assert.Equal(t, "off", off.String())
	assert.Equal(t, DefaultQuietHours(), must(ParseQuietHours("22:00-07:00")))
}

func must(q QuietHours, err error) QuietHours {
	if err != nil {
		panic(err)
	}
	return q
}

func TestWindowMergesTouchingWindows(t *testing.T) {
	loc := hebron(t)
	q := must(ParseQuietHours("22:00-07:00,sat 07:00-09:00,fri 11:30-13:30"))
	start, end, ok := q.Window(at(t, loc, "2026-12-12 03:00"), loc) // Saturday night into the morning
	require.True(t, ok)
	assert.Equal(t, "2026-12-11 22:00", local(start, loc))
	assert.Equal(t, "2026-12-12 09:00", local(end, loc))
	assert.Equal(t, "2026-12-12 09:00", local(q.HoldUntil(at(t, loc, "2026-12-11 23:00"), loc), loc))

	start, end, ok = q.Window(at(t, loc, "2026-12-11 12:00"), loc)
	require.True(t, ok)
	assert.Equal(t, []string{"2026-12-11 11:30", "2026-12-11 13:30"}, locals([]time.Time{start, end}, loc))

	_, _, ok = q.Window(at(t, loc, "2026-12-11 13:30"), loc)
	assert.False(t, ok, "the end is outside")
	_, _, ok = q.Window(at(t, loc, "2026-12-11 21:59"), loc)
	assert.False(t, ok)

	// a daytime nightly window (no wrap) works too
	day := must(ParseQuietHours("13:00-15:00"))
	_, end, ok = day.Window(at(t, loc, "2026-12-07 14:00"), loc)
	require.True(t, ok)
	assert.Equal(t, "2026-12-07 15:00", local(end, loc))
}

// TestQuietHoursAcrossDST: the window ends at 07:00 local on the nights
// the clocks change, not seven hours after midnight.
func TestQuietHoursAcrossDST(t *testing.T) {
	loc := hebron(t)
	q := DefaultQuietHours()
	// the case that was released at 06:00
	assert.Equal(t, "2026-10-24 07:00", local(q.HoldUntil(at(t, loc, "2026-10-23 23:00"), loc), loc))
	for _, year := range []int{2026, 2027} {
		spring, fall := dstChanges(t, loc, year)
		for _, change := range []struct {
			label string
			at    time.Time
			night time.Duration // 22:00 to 07:00
		}{{"spring", spring, 8 * time.Hour}, {"fall", fall, 10 * time.Hour}} {
			t.Run(fmt.Sprintf("%d_%s", year, change.label), func(t *testing.T) {
				day := DateOf(change.at.In(loc))
				eve := day.AddDays(-1)
				held := q.HoldUntil(eve.At(23, 0, loc), loc)
				assert.Equal(t, day.At(7, 0, loc), held)
				assert.Equal(t, 7, held.In(loc).Hour())
				start, end, ok := q.Window(change.at, loc)
				require.True(t, ok)
				assert.Equal(t, change.night, end.Sub(start), "the night is an hour shorter or longer")
				assert.True(t, q.HoldUntil(day.At(7, 0, loc), loc).IsZero(), "07:00 is out")
			})
		}
		// a window that starts at a time the clocks skip starts at the change
		gapStart := spring.Add(-time.Second).In(loc).Hour() + 1
		night := QuietHours{Nightly: Span{Start: gapStart*60 + 30, End: 7 * 60}}
		start, _, ok := night.Window(spring.Add(time.Minute), loc)
		require.True(t, ok)
		assert.True(t, start.Equal(spring), "%d: starts at the change, got %s", year, start)
	}
}

func TestDeliverBefore(t *testing.T) {
	loc := hebron(t)
	q := must(ParseQuietHours("21:00-07:00,fri 11:30-13:30"))
	for _, c := range []struct {
		label              string
		due, deadline, now string
		want               string
	}{
		{"outside quiet hours: as due", "2026-12-07 18:00", "2026-12-07 19:00", "2026-12-07 10:00", "2026-12-07 18:00"},
		{"due in the night, event at 22:17: just before the night", "2026-12-07 21:17", "2026-12-07 22:17", "2026-12-07 18:00", "2026-12-07 20:59"},
		{"the last minute before the night: now", "2026-12-07 21:17", "2026-12-07 22:17", "2026-12-07 20:59", "2026-12-07 20:59"},
		{"already in the night and the event comes first: now", "2026-12-07 21:17", "2026-12-07 22:17", "2026-12-07 21:05", "2026-12-07 21:05"},
		{"already in the night, event after it ends: the night's end", "2026-12-07 23:00", "2026-12-08 09:00", "2026-12-07 21:30", "2026-12-08 07:00"},
		{"event exactly at the night's end: now", "2026-12-07 23:00", "2026-12-08 07:00", "2026-12-07 21:30", "2026-12-07 21:30"},
		{"Friday prayers: before they start", "2026-12-11 12:00", "2026-12-11 13:00", "2026-12-11 09:00", "2026-12-11 11:29"},
		{"late: the window is already over", "2026-12-07 23:00", "2026-12-08 09:00", "2026-12-08 07:30", "2026-12-08 07:30"},
	} {
		got := q.DeliverBefore(at(t, loc, c.due), at(t, loc, c.deadline), at(t, loc, c.now), loc)
		assert.Equal(t, c.want, local(got, loc), c.label)
	}
	// no deadline: the window's end, as HoldUntil
	due := at(t, loc, "2026-12-07 23:00")
	assert.Equal(t, q.HoldUntil(due, loc), q.DeliverBefore(due, time.Time{}, at(t, loc, "2026-12-07 22:00"), loc))
	// never after the event, whatever the night: checked over a day of due times
	event := at(t, loc, "2026-12-08 01:00")
	for due := event.Add(-6 * time.Hour); due.Before(event); due = due.Add(7 * time.Minute) {
		now := due.Add(-2 * time.Hour)
		got := q.DeliverBefore(due, event, now, loc)
		assert.False(t, got.After(event), "due %s: sent %s, after the event", local(due, loc), local(got, loc))
		assert.False(t, got.Before(now), "due %s: sent %s, before now", local(due, loc), local(got, loc))
	}
}
