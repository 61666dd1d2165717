package postgres

import (
	"context"
	"fmt"
	"time"

	"mobilise/bot"
	"mobilise/store"

	"github.com/jackc/pgx/v5"
)

// keyPause is the meta row of the admin's kill switch for all sending.
const keyPause = "paused"

// Pause returns the kill switch's state; unset means not paused.
func (s *Store) Pause(ctx context.Context) (store.Pause, error) {
	var p store.Pause
	if _, err := getMeta(ctx, s.q(ctx), keyPause, &p); err != nil {
		return store.Pause{}, fmt.Errorf("reading pause state: %w", err)
	}
	return p, nil
}

// SetPause turns the kill switch on or off.
func (s *Store) SetPause(ctx context.Context, p store.Pause) error {
	if err := s.write(ctx, func(tx pgx.Tx) error { return putMeta(ctx, tx, keyPause, p) }); err != nil {
		return fmt.Errorf("saving pause state: %w", err)
	}
	return nil
}

// ThrottledUntil returns until when the platform asked the bot not to send
// on channel, to the nanosecond, so a restarted process, or another
// instance, waits out a 429; the zero time if it never did.
func (s *Store) ThrottledUntil(ctx context.Context, channel bot.ChannelName) (time.Time, error) {
	var ns int64
	err := s.q(ctx).QueryRow(ctx, `SELECT COALESCE((SELECT until_ns FROM throttles WHERE channel = $1), 0)`, string(channel)).Scan(&ns)
	if err != nil {
		return time.Time{}, fmt.Errorf("reading the %s throttle: %w", channel, err)
	}
	if ns == 0 {
		return time.Time{}, nil
	}
	return time.Unix(0, ns).UTC(), nil
}

// SetThrottledUntil records until when the platform asked the bot not to
// send on channel. A time earlier than the one stored changes nothing: the
// later of two instances' times is kept.
func (s *Store) SetThrottledUntil(ctx context.Context, channel bot.ChannelName, until time.Time) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO throttles (channel, until_ns) VALUES ($1, $2)
			ON CONFLICT (channel) DO UPDATE SET until_ns = GREATEST(throttles.until_ns, EXCLUDED.until_ns)`,
			string(channel), until.UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("saving the %s throttle: %w", channel, err)
	}
	return nil
}
