package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"mobilise/bot"

	"github.com/jackc/pgx/v5"
)

// OutboxForget deletes, in one transaction, the queued messages to a
// person who asked to be forgotten, as store.Store.OutboxForget does:
// those with their contact ID or to one of addrs. Each counts as cancelled
// for its broadcast. It returns how many it deleted.
func (s *Store) OutboxForget(ctx context.Context, contactID uint64, addrs []bot.Address) (removed int, err error) {
	err = s.write(ctx, func(tx pgx.Tx) error {
		var err error
		removed, err = s.removeQueued(ctx, tx, contactID, addrs, false)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("forgetting the queued messages of contact %d: %w", contactID, err)
	}
	return removed, nil
}

// OutboxWithdrawBulk deletes the broadcasts and reminders still queued for
// a person who said /stop, as store.Store.OutboxWithdrawBulk does, so
// nothing bulk reaches them afterwards; notices stay. Each counts as
// cancelled for its broadcast.
func (s *Store) OutboxWithdrawBulk(ctx context.Context, contactID uint64, addrs []bot.Address) (removed int, err error) {
	err = s.write(ctx, func(tx pgx.Tx) error {
		var err error
		removed, err = s.removeQueued(ctx, tx, contactID, addrs, true)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("withdrawing the queued broadcasts of contact %d: %w", contactID, err)
	}
	return removed, nil
}

// removeQueued deletes the entries for a contact or its addresses, locking
// them; bulkOnly keeps the notices.
func (s *Store) removeQueued(ctx context.Context, tx pgx.Tx, contactID uint64, addrs []bot.Address, bulkOnly bool) (int, error) {
	to := make([]string, len(addrs))
	for i, a := range addrs {
		to[i] = a.String()
	}
	rows, err := tx.Query(ctx, `SELECT id FROM outbox
		WHERE ((contact_id = $1 AND $1 <> 0) OR entry->>'to' = ANY($2))
			AND (NOT $3 OR COALESCE((entry->>'bulk')::boolean, false))
		ORDER BY id FOR UPDATE`, int64(contactID), to, bulkOnly)
	if err != nil {
		return 0, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uint64])
	if err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return len(ids), s.removeEntries(ctx, tx, ids, outcomeCancelled, "")
}

// ReplaceQueued changes the text and buttons of an entry still waiting in
// the outbox, not marked Started, and reports whether it did, as
// store.Store.ReplaceQueued does: a progress report not yet sent is
// brought up to date instead of followed by another.
func (s *Store) ReplaceQueued(ctx context.Context, id uint64, text string, buttons [][]bot.Button) (bool, error) {
	patch, err := json.Marshal(struct {
		Text    string         `json:"text,omitempty"`
		Buttons [][]bot.Button `json:"buttons,omitempty"`
	}{text, buttons})
	if err != nil {
		return false, fmt.Errorf("replacing outbox entry %d: encoding: %w", id, err)
	}
	var found bool
	err = s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE outbox SET text_ref = '', entry = (entry - 'text' - 'buttons') || $2::jsonb
			WHERE id = $1 AND started IS NULL`, int64(id), patch)
		found = err == nil && tag.RowsAffected() == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("replacing outbox entry %d: %w", id, err)
	}
	return found, nil
}
