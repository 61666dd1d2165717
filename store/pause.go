package store

import (
	"context"
	"fmt"
	"time"

	"mobilise/bot"

	"go.etcd.io/bbolt"
)

// pauseKey holds, in meta, the admin's kill switch for all sending.
var pauseKey = []byte("paused")

// Pause is the state of the kill switch.
type Pause struct {
	Paused bool      `json:"paused"`
	By     uint64    `json:"by,omitempty"`
	At     time.Time `json:"at,omitempty"`
}

// Pause returns the kill switch's state; unset means not paused.
func (s *Store) Pause(ctx context.Context) (Pause, error) {
	var p Pause
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		err := getJSON(tx.Bucket(bucketMeta), pauseKey, &p)
		if err == ErrNotFound {
			return nil
		}
		return err
	})
	if err != nil {
		return Pause{}, fmt.Errorf("reading pause state: %w", err)
	}
	return p, nil
}

// SetPause turns the kill switch on or off.
func (s *Store) SetPause(ctx context.Context, p Pause) error {
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		return putJSON(tx.Bucket(bucketMeta), pauseKey, p)
	})
	if err != nil {
		return fmt.Errorf("saving pause state: %w", err)
	}
	return nil
}

// throttleKey holds, in meta, until when a platform asked the bot to stop
// sending on a channel (a 429's retry_after), as unix nanoseconds.
func throttleKey(channel bot.ChannelName) []byte { return []byte("throttled_until:" + string(channel)) }

// ThrottledUntil returns until when the platform asked the bot not to send on
// channel, so a restarted process waits out its predecessor's 429; the zero
// time if it never did.
func (s *Store) ThrottledUntil(ctx context.Context, channel bot.ChannelName) (time.Time, error) {
	var until time.Time
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(throttleKey(channel)); len(v) == 8 {
			until = time.Unix(0, int64(btoi(v))).UTC()
		}
		return nil
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("reading the %s throttle: %w", channel, err)
	}
	return until, nil
}

// SetThrottledUntil records until when the platform asked the bot not to
// send on channel. A time earlier than the one stored changes nothing.
func (s *Store) SetThrottledUntil(ctx context.Context, channel bot.ChannelName, until time.Time) error {
	// idempotent: keeps the later of two times
	err := s.writeBatch(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		if v := b.Get(throttleKey(channel)); len(v) == 8 && int64(btoi(v)) >= until.UnixNano() {
			return nil
		}
		return b.Put(throttleKey(channel), itob(uint64(until.UnixNano())))
	})
	if err != nil {
		return fmt.Errorf("saving the %s throttle: %w", channel, err)
	}
	return nil
}
