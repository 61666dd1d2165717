package schedule

import (
	"testing"
	"time"
	_ "time/tzdata" // the same zone rules on every machine

	"github.com/stretchr/testify/require"
)

// hebron is the coalition's zone, where DST starts and ends at night.
func hebron(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Hebron")
	require.NoError(t, err)
	return loc
}

// testNow is Wednesday 2 December 2026, 10:00 in Hebron: every table in
// these tests counts from it.
func testNow(t testing.TB) time.Time {
	return time.Date(2026, 12, 2, 10, 0, 0, 0, hebron(t))
}

// local formats t as Hebron's wall clock, "2006-01-02 15:04".
func local(t time.Time, loc *time.Location) string { return t.In(loc).Format("2006-01-02 15:04") }

func locals(ts []time.Time, loc *time.Location) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = local(t, loc)
	}
	return out
}

// transitions returns the instants in year at which loc's offset changes,
// found from the zone data rather than assumed.
func transitions(t testing.TB, loc *time.Location, year int) []time.Time {
	t.Helper()
	var out []time.Time
	at := time.Date(year, 1, 1, 0, 0, 0, 0, loc)
	for {
		_, end := at.ZoneBounds()
		if end.IsZero() || end.Year() > year {
			return out
		}
		out = append(out, end)
		at = end
	}
}

// dstChanges returns loc's spring-forward and fall-back instants in year.
func dstChanges(t testing.TB, loc *time.Location, year int) (spring, fall time.Time) {
	t.Helper()
	for _, tr := range transitions(t, loc, year) {
		_, before := tr.Add(-time.Second).Zone()
		_, after := tr.Zone()
		if after > before {
			spring = tr
		} else {
			fall = tr
		}
	}
	require.False(t, spring.IsZero(), "no spring-forward change in %d", year)
	require.False(t, fall.IsZero(), "no fall-back change in %d", year)
	return spring, fall
}
