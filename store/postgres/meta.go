package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"mobilise/bot"

	"github.com/jackc/pgx/v5"
)

// Schema, migration 10:
//
//	sessions   contact_id PK          record is the Session as JSON; no foreign key, as in the bbolt store
//	meta       key PK                 value is JSON: "telegram_offset" the getUpdates offset, "paused" the Pause
//	throttles  channel PK             until_ns: until when the platform asked not to send, unix nanoseconds
//	handled    (channel, id) PK       one mark per incoming update or message (handled_pkey decides which
//	                                  instance handles it); at, indexed by handled_at_idx, for pruning

// handledFor and pruneBatch are as in the bbolt store: MarkHandled
// remembers an update for 48 hours, and each call that adds a mark
// deletes at most 32 expired ones.
const (
	handledFor = 48 * time.Hour
	pruneBatch = 32
)

// keyTelegramOffset is the meta row of the getUpdates offset.
const keyTelegramOffset = "telegram_offset"

// getMeta decodes the meta row key into v and reports whether there is one.
func getMeta(ctx context.Context, q querier, key string, v any) (bool, error) {
	var buf []byte
	err := q.QueryRow(ctx, `SELECT value FROM meta WHERE key = $1`, key).Scan(&buf)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(buf, v); err != nil {
		return false, fmt.Errorf("decoding %s: %w", key, err)
	}
	return true, nil
}

// putMeta writes v as the meta row key.
func putMeta(ctx context.Context, tx pgx.Tx, key string, v any) error {
	buf, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", key, err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, key, buf)
	return err
}

// TelegramOffset returns the saved getUpdates offset, 0 if none.
func (s *Store) TelegramOffset(ctx context.Context) (int64, error) {
	var off int64
	if _, err := getMeta(ctx, s.q(ctx), keyTelegramOffset, &off); err != nil {
		return 0, fmt.Errorf("reading telegram offset: %w", err)
	}
	return off, nil
}

// SetTelegramOffset saves the getUpdates offset.
func (s *Store) SetTelegramOffset(ctx context.Context, offset int64) error {
	if err := s.write(ctx, func(tx pgx.Tx) error { return putMeta(ctx, tx, keyTelegramOffset, offset) }); err != nil {
		return fmt.Errorf("saving telegram offset %d: %w", offset, err)
	}
	return nil
}

// MarkHandled records that the channel's incoming message or update id was
// handled and reports whether this is the first time, as
// store.Store.MarkHandled does, so one the platform delivers twice, to one
// instance or to two, is answered once: the mark's primary key decides,
// and an instance inserting the same mark waits for the other's
// transaction to end, seeing the mark if it committed. Called with a
// context carrying the transaction that handles the message (InTx), the
// mark commits with what the handling changed, or not at all. Marks are
// kept for 48 hours; each first mark deletes up to 32 expired ones,
// skipping those another instance is deleting.
func (s *Store) MarkHandled(ctx context.Context, channel bot.ChannelName, id string) (first bool, err error) {
	if channel == "" || id == "" {
		return false, errors.New("marking a message handled: no channel or ID")
	}
	now := s.stamp()
	err = s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO handled (channel, id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			string(channel), id, now)
		if err != nil {
			return err
		}
		first = tag.RowsAffected() == 1
		if !first {
			return nil
		}
		_, err = tx.Exec(ctx, `DELETE FROM handled WHERE (channel, id) IN (
			SELECT channel, id FROM handled WHERE at < $1 ORDER BY at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
			now.Add(-handledFor), pruneBatch)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("marking %s message %s handled: %w", channel, id, err)
	}
	return first, nil
}
