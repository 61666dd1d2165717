package postgres

import (
	"context"
	"fmt"
	"time"

	"mobilise/store"

	"github.com/jackc/pgx/v5"
)

// ActivityByDay counts the campaign's pledges (forgotten ones included)
// and sign-ups per day in loc, oldest day first, with no gaps between the
// first day and the last, from one snapshot, as store.Store.ActivityByDay
// does. Records without a time are left out.
func (s *Store) ActivityByDay(ctx context.Context, campaignID uint64, loc *time.Location) ([]store.DayCount, error) {
	pledges, signups := map[time.Time]int{}, map[time.Time]int{}
	var first, last time.Time
	err := s.snapshot(ctx, func(q querier) error {
		clear(pledges)
		clear(signups)
		first, last = time.Time{}, time.Time{}
		rows, err := q.Query(ctx, `SELECT true, at FROM pledges WHERE campaign_id = $1
			UNION ALL SELECT true, at FROM forgotten_pledges WHERE campaign_id = $1
			UNION ALL SELECT false, at FROM signups WHERE campaign_id = $1`, campaignID)
		if err != nil {
			return err
		}
		var (
			pledge bool
			at     time.Time
		)
		_, err = pgx.ForEachRow(rows, []any{&pledge, &at}, func() error {
			if at.IsZero() {
				return nil
			}
			t := at.In(loc)
			day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
			if pledge {
				pledges[day]++
			} else {
				signups[day]++
			}
			if first.IsZero() || day.Before(first) {
				first = day
			}
			if day.After(last) {
				last = day
			}
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("activity of campaign %d: %w", campaignID, err)
	}
	if first.IsZero() {
		return nil, nil
	}
	var out []store.DayCount
	for day := first; !day.After(last); day = day.AddDate(0, 0, 1) {
		out = append(out, store.DayCount{Day: day, Pledges: pledges[day], Signups: signups[day]})
	}
	return out, nil
}
