package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"mobilise/store"

	"github.com/jackc/pgx/v5"
)

// The codes that prove a call genuine, as in the bbolt store: calls holds
// each Call as JSON under its code (calls_pkey: a code is never used
// twice), latest_calls the latest code of each kind and ID, and
// verify_failures the times (unix seconds) a wrong code was asked about
// from an address, kept for an hour.

// verifyWindow is how long a wrong code counts against the address that asked.
const verifyWindow = time.Hour

// PutCall records a call under its code and as the latest of its kind and
// ID; a code already in use gives store.ErrCodeTaken (of two instances
// recording one code at once, the primary key lets one). A zero At is now.
func (s *Store) PutCall(ctx context.Context, c *store.Call) error {
	rec := *c
	if rec.Code == "" {
		return errors.New("recording a call: no code")
	}
	if rec.At.IsZero() {
		rec.At = s.stamp()
	}
	rec.At = rec.At.UTC()
	buf, err := json.Marshal(&rec)
	if err != nil {
		return fmt.Errorf("recording the %s %d's code: %w", rec.Kind, rec.RefID, err)
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO calls (code, call) VALUES ($1, $2) ON CONFLICT (code) DO NOTHING`, rec.Code, buf)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrCodeTaken
		}
		_, err = tx.Exec(ctx, `INSERT INTO latest_calls (kind, ref_id, code) VALUES ($1, $2, $3)
			ON CONFLICT (kind, ref_id) DO UPDATE SET code = EXCLUDED.code`, rec.Kind, rec.RefID, rec.Code)
		return err
	})
	if err != nil {
		return fmt.Errorf("recording the %s %d's code: %w", rec.Kind, rec.RefID, err)
	}
	*c = rec
	return nil
}

// scanCall reads one row of (call), or ErrNotFound.
func scanCall(row pgx.Row) (*store.Call, error) {
	var buf []byte
	if err := row.Scan(&buf); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, store.ErrNotFound
		}
		return nil, err
	}
	c := &store.Call{}
	if err := json.Unmarshal(buf, c); err != nil {
		return nil, fmt.Errorf("decoding a call: %w", err)
	}
	return c, nil
}

// Call returns the call sent under code, or ErrNotFound.
func (s *Store) Call(ctx context.Context, code string) (*store.Call, error) {
	c, err := scanCall(s.q(ctx).QueryRow(ctx, `SELECT call FROM calls WHERE code = $1`, code))
	if err != nil {
		return nil, fmt.Errorf("call: %w", err)
	}
	return c, nil
}

// CallOf returns the latest call of a broadcast or reminder, or ErrNotFound.
func (s *Store) CallOf(ctx context.Context, kind string, id uint64) (*store.Call, error) {
	c, err := scanCall(s.q(ctx).QueryRow(ctx, `SELECT c.call FROM latest_calls l JOIN calls c ON c.code = l.code
		WHERE l.kind = $1 AND l.ref_id = $2`, kind, id))
	if err != nil {
		return nil, fmt.Errorf("call of %s %d: %w", kind, id, err)
	}
	return c, nil
}

// VerifyFailures returns the times a code the coalition never sent was
// asked about from the address marked mark, within the hour before now.
func (s *Store) VerifyFailures(ctx context.Context, mark []byte, now time.Time) ([]time.Time, error) {
	var raw []int64
	err := s.q(ctx).QueryRow(ctx, `SELECT times FROM verify_failures WHERE mark = $1`, mark).Scan(&raw)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("reading verification failures: %w", err)
	}
	return recentMarks(raw, now, verifyWindow), nil
}

// AddVerifyFailure records a code the coalition never sent, asked about at
// now from the address marked mark, keeping the last hour's. The mark's
// row lock orders the failures of one address across instances.
func (s *Store) AddVerifyFailure(ctx context.Context, mark []byte, now time.Time) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO verify_failures (mark, times) VALUES ($1, '{}') ON CONFLICT (mark) DO NOTHING`, mark); err != nil {
			return err
		}
		var raw []int64
		if err := tx.QueryRow(ctx, `SELECT times FROM verify_failures WHERE mark = $1 FOR UPDATE`, mark).Scan(&raw); err != nil {
			return err
		}
		recent := recentMarks(raw, now, verifyWindow)
		kept := make([]int64, 0, len(recent)+1)
		for _, at := range recent {
			kept = append(kept, at.Unix())
		}
		_, err := tx.Exec(ctx, `UPDATE verify_failures SET times = $2 WHERE mark = $1`, mark, append(kept, now.Unix()))
		return err
	})
	if err != nil {
		return fmt.Errorf("recording a verification failure: %w", err)
	}
	return nil
}

// recentMarks returns the times of raw (unix seconds) that lie within
// window before now, as the bbolt store reads them.
func recentMarks(raw []int64, now time.Time, window time.Duration) []time.Time {
	var out []time.Time
	for _, u := range raw {
		if at := time.Unix(u, 0); now.Sub(at) < window {
			out = append(out, at)
		}
	}
	return out
}
