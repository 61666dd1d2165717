package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// DayCount is how many pledges and sign-ups a campaign had on one day.
type DayCount struct {
	// Day is midnight of the day in the location asked for.
	Day     time.Time
	Pledges int
	Signups int
}

// activityTime is the part of a pledge or sign-up ActivityByDay reads:
// decoding only it keeps a pass over many records fast.
type activityTime struct {
	At time.Time `json:"at"`
}

// ActivityByDay counts the campaign's pledges and sign-ups per day in loc,
// oldest day first, with no gaps between the first day and the last.
// Records without a time are left out. It reads in one transaction.
func (s *Store) ActivityByDay(ctx context.Context, campaignID uint64, loc *time.Location) ([]DayCount, error) {
	pledges, signups := map[time.Time]int{}, map[time.Time]int{}
	var first, last time.Time
	prefix := itob(campaignID)
	scan := func(b *bbolt.Bucket, into map[time.Time]int) error {
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var a activityTime
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("decoding record %x: %w", k, err)
			}
			if a.At.IsZero() {
				continue
			}
			t := a.At.In(loc)
			day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
			into[day]++
			if first.IsZero() || day.Before(first) {
				first = day
			}
			if day.After(last) {
				last = day
			}
		}
		return nil
	}
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		if err := scan(tx.Bucket(bucketPledges), pledges); err != nil {
			return err
		}
		return scan(tx.Bucket(bucketSignups), signups)
	})
	if err != nil {
		return nil, fmt.Errorf("activity of campaign %d: %w", campaignID, err)
	}
	if first.IsZero() {
		return nil, nil
	}
	var out []DayCount
	for day := first; !day.After(last); day = day.AddDate(0, 0, 1) {
		out = append(out, DayCount{Day: day, Pledges: pledges[day], Signups: signups[day]})
	}
	return out, nil
}
