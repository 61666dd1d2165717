package schedule

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHebronChangesAtNight pins what the other DST tests rely on: in
// 2026 and 2027 Hebron's clocks change in the small hours, by one hour.
func TestHebronChangesAtNight(t *testing.T) {
	loc := hebron(t)
	for _, year := range []int{2026, 2027} {
		spring, fall := dstChanges(t, loc, year)
		_, offBefore := spring.Add(-time.Second).Zone()
		_, offAfter := spring.Zone()
		assert.Equal(t, 3600, offAfter-offBefore, "%d spring", year)
		assert.Less(t, spring.Add(-time.Second).Hour(), 4, "%d spring: a night-time change", year)
		assert.Less(t, fall.Add(-time.Second).Hour(), 4, "%d fall: a night-time change", year)
	}
}

// TestNextKeepsWallClockAcrossDST fires a daily 18:00 over each change:
// always 18:00 local, with a 23- or 25-hour day in between.
func TestNextKeepsWallClockAcrossDST(t *testing.T) {
	loc := hebron(t)
	for _, year := range []int{2026, 2027} {
		spring, fall := dstChanges(t, loc, year)
		for _, change := range []struct {
			label string
			at    time.Time
			day   time.Duration
		}{{"spring", spring, 23 * time.Hour}, {"fall", fall, 25 * time.Hour}} {
			t.Run(fmt.Sprintf("%d_%s", year, change.label), func(t *testing.T) {
				s := Schedule{Hour: 18}
				eve := DateOf(change.at.In(loc)).AddDays(-1)
				fires := s.NextN(eve.At(12, 0, loc), loc, 3)
				require.Len(t, fires, 3)
				for _, f := range fires {
					assert.Equal(t, 18, f.In(loc).Hour(), "fires at 18:00 local: %s", f.In(loc))
				}
				assert.Equal(t, change.day, fires[1].Sub(fires[0]), "the day the clocks change")
				assert.Equal(t, 24*time.Hour, fires[2].Sub(fires[1]))

				// every 2 days, and cron, keep the wall clock too
				every2 := Schedule{EveryDays: 2, From: eve, Hour: 18}
				assert.Equal(t, 18, every2.NextN(eve.At(0, 0, loc), loc, 2)[1].In(loc).Hour())
				cronFires := Schedule{Cron: "0 18 * * *"}.NextN(eve.At(12, 0, loc), loc, 3)
				assert.Equal(t, fires, cronFires)
			})
		}
	}
}

// TestSkippedTimeFiresAfterTheGap: on the spring-forward night a time the
// clocks skip fires at the first instant after the gap, once.
func TestSkippedTimeFiresAfterTheGap(t *testing.T) {
	loc := hebron(t)
	for _, year := range []int{2026, 2027} {
		spring, _ := dstChanges(t, loc, year)
		// the clock reads gapStart just before the change, then jumps an hour:
		// half an hour after gapStart is a wall time that does not exist
		last := spring.Add(-time.Second).In(loc)
		gapH, gapM := last.Hour(), (last.Minute()+1)%60
		if gapM == 0 {
			gapH++
		}
		gapM += 30
		day := DateOf(spring.In(loc))
		for _, s := range []Schedule{
			{Hour: gapH, Minute: gapM},
			{Cron: fmt.Sprintf("%d %d * * *", gapM, gapH)},
		} {
			fires := s.NextN(day.AddDays(-2).At(12, 0, loc), loc, 3)
			require.Len(t, fires, 3, "%d %+v", year, s)
			assert.True(t, fires[1].Equal(spring), "%d %+v: on the change day it fires at the change, %s", year, s, fires[1].In(loc))
			assert.Equal(t, gapH, fires[0].In(loc).Hour(), "the day before as usual")
			assert.Equal(t, gapH, fires[2].In(loc).Hour(), "the day after as usual")
			assert.Equal(t, gapM, fires[2].In(loc).Minute())
		}
		// a cron firing every half hour fires once at the change, not twice
		half := Schedule{Cron: "0,30 * * * *"}.NextN(spring.Add(-31*time.Minute), loc, 3)
		assert.Equal(t, []time.Duration{30 * time.Minute, 30 * time.Minute}, []time.Duration{half[1].Sub(half[0]), half[2].Sub(half[1])})
		assert.True(t, half[1].Equal(spring), "%s", half[1].In(loc))
	}
}

// TestRepeatedTimeFiresOnce: on the fall-back night a time the clocks show
// twice fires the first time only.
func TestRepeatedTimeFiresOnce(t *testing.T) {
	loc := hebron(t)
	for _, year := range []int{2026, 2027} {
		_, fall := dstChanges(t, loc, year)
		repeated := fall.Add(30 * time.Minute).In(loc) // shown once before the change and once after
		h, m := repeated.Hour(), repeated.Minute()
		first := fall.Add(-30 * time.Minute)
		require.Equal(t, h, first.In(loc).Hour(), "the wall time repeats")
		day := DateOf(fall.In(loc))
		for _, s := range []Schedule{
			{Hour: h, Minute: m},
			{Cron: fmt.Sprintf("%d %d * * *", m, h)},
		} {
			fires := s.NextN(day.AddDays(-2).At(12, 0, loc), loc, 3)
			require.Len(t, fires, 3)
			assert.True(t, fires[1].Equal(first), "%d %+v: the first of the two, got %s", year, s, fires[1])
			assert.Equal(t, day.AddDays(1), DateOf(fires[2].In(loc)), "then the next day, not an hour later")
			// asked again from between the two readings, it does not fire the second
			assert.Equal(t, fires[2], s.Next(first.Add(45*time.Minute), loc))
		}
	}
}

func TestDateAt(t *testing.T) {
	loc := hebron(t)
	d := Date{2026, 12, 20}
	assert.Equal(t, "2026-12-20 18:00", local(d.At(18, 0, loc), loc))
	assert.Equal(t, time.Sunday, d.Weekday())
	assert.Equal(t, Date{2027, 1, 1}, d.AddDays(12))
	assert.Equal(t, 12, d.DaysUntil(Date{2027, 1, 1}))
	assert.Equal(t, -20, d.DaysUntil(Date{2026, 11, 30}))
	assert.Equal(t, "2026-12-20", d.String())
	assert.Empty(t, Date{}.String())
	_, err := ParseDate("2026-02-30")
	assert.Error(t, err)
}
