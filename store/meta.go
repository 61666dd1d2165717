package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"mobilise/bot"

	"go.etcd.io/bbolt"
)

// handledFor is how long MarkHandled remembers an update; platforms
// redeliver within hours, not days.
const handledFor = 48 * time.Hour

// pruneBatch bounds the old entries one MarkHandled call deletes, so
// no call pays for a long backlog; each call adds one entry and may remove
// up to this many, so the backlog shrinks.
const pruneBatch = 32

// TelegramOffset returns the saved getUpdates offset, 0 if none.
func (s *Store) TelegramOffset(ctx context.Context) (int64, error) {
	var off int64
	if err := s.read(ctx, func(tx *bbolt.Tx) error {
		off = int64(btoi(tx.Bucket(bucketMeta).Get(keyTelegramOffset)))
		return nil
	}); err != nil {
		return 0, fmt.Errorf("reading telegram offset: %w", err)
	}
	return off, nil
}

// SetTelegramOffset saves the getUpdates offset.
func (s *Store) SetTelegramOffset(ctx context.Context, offset int64) error {
	if err := s.writeBatch(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyTelegramOffset, itob(uint64(offset)))
	}); err != nil {
		return fmt.Errorf("saving telegram offset %d: %w", offset, err)
	}
	return nil
}

// MarkHandled records that the channel's incoming message or update id was
// handled and reports whether this is the first time, so one the platform
// delivers twice is answered once. Called with a context carrying the
// transaction that handles the message (InTx), the mark commits with what
// the handling changed, or not at all. Entries are kept for 48 hours; each
// call deletes a bounded number of expired ones.
func (s *Store) MarkHandled(ctx context.Context, channel bot.ChannelName, id string) (first bool, err error) {
	if channel == "" || id == "" {
		return false, errors.New("marking a message handled: no channel or ID")
	}
	key := handledKey(channel, id)
	now := s.stamp().Unix()
	err = s.writeBatch(ctx, func(tx *bbolt.Tx) error {
		first = false
		handled := tx.Bucket(bucketHandled)
		if handled.Get(key) != nil {
			return nil
		}
		if err := handled.Put(key, itob(uint64(now))); err != nil {
			return err
		}
		if err := tx.Bucket(bucketHandledByTime).Put(append(itob(uint64(now)), key...), nil); err != nil {
			return err
		}
		first = true
		return pruneHandled(tx, now-int64(handledFor/time.Second))
	})
	if err != nil {
		return false, fmt.Errorf("marking %s message %s handled: %w", channel, id, err)
	}
	return first, nil
}

// handledKey is (channel ‖ 0 ‖ id): a decimal ID, such as a Telegram
// update_id, as 8 bytes big-endian, any other ID as its bytes.
func handledKey(channel bot.ChannelName, id string) []byte {
	key := make([]byte, 0, len(channel)+1+max(8, len(id)))
	key = append(append(key, channel...), 0)
	if n, err := strconv.ParseUint(id, 10, 64); err == nil && strconv.FormatUint(n, 10) == id {
		return append(key, itob(n)...)
	}
	return append(key, id...)
}

// pruneHandled deletes up to pruneBatch entries handled before cutoff (unix seconds).
func pruneHandled(tx *bbolt.Tx, cutoff int64) error {
	handled, byTime := tx.Bucket(bucketHandled), tx.Bucket(bucketHandledByTime)
	var old [][]byte
	c := byTime.Cursor()
	// a key too short to hold a time is damage: pruning it is all it is good for
	for k, _ := c.First(); k != nil && len(old) < pruneBatch && (len(k) < 8 || int64(btoi(k[:8])) < cutoff); k, _ = c.Next() {
		old = append(old, append([]byte(nil), k...))
	}
	for _, k := range old {
		if err := byTime.Delete(k); err != nil {
			return err
		}
		if len(k) <= 8 {
			continue
		}
		if err := handled.Delete(k[8:]); err != nil {
			return err
		}
	}
	return nil
}
