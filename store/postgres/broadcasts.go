package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"mobilise/bot"
	"mobilise/store"

	"github.com/jackc/pgx/v5"
)

// Broadcasts returns every broadcast in ID order.
func (s *Store) Broadcasts(ctx context.Context) ([]store.Broadcast, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT id, record FROM broadcasts ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("listing broadcasts: %w", err)
	}
	var (
		out []store.Broadcast
		id  int64
		buf []byte
	)
	if _, err := pgx.ForEachRow(rows, []any{&id, &buf}, func() error {
		var b store.Broadcast
		if err := json.Unmarshal(buf, &b); err != nil {
			return fmt.Errorf("decoding broadcast %d: %w", id, err)
		}
		b.ID = uint64(id)
		out = append(out, b)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("listing broadcasts: %w", err)
	}
	return out, nil
}

// UpdateBroadcast reads the broadcast, lets fn change it and writes it
// back, in one transaction holding its row lock, as
// store.Store.UpdateBroadcast does; if fn returns an error nothing is
// written. fn cannot change the ID. The counters are the outbox's to keep:
// change them only to repair.
func (s *Store) UpdateBroadcast(ctx context.Context, id uint64, fn func(*store.Broadcast) error) (*store.Broadcast, error) {
	var out *store.Broadcast
	err := s.write(ctx, func(tx pgx.Tx) error {
		out = nil
		b, err := readBroadcast(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := fn(b); err != nil {
			return err
		}
		b.ID = id
		if err := putBroadcast(ctx, tx, b); err != nil {
			return err
		}
		out = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("updating broadcast %d: %w", id, err)
	}
	return out, nil
}

// SetStatusMessage records the platform ID of the progress message shown
// to the broadcast's author at to, so the next report edits it in place.
func (s *Store) SetStatusMessage(ctx context.Context, broadcastID uint64, to bot.Address, messageID string) error {
	_, err := s.UpdateBroadcast(ctx, broadcastID, func(b *store.Broadcast) error {
		if b.StatusMessage == nil {
			b.StatusMessage = map[string]string{}
		}
		b.StatusMessage[to.String()] = messageID
		return nil
	})
	return err
}

// prepareBroadcastEntries checks a broadcast's entries and sorts them by
// contact, in place, as QueueBroadcast does.
func prepareBroadcastEntries(id uint64, entries []store.OutboxEntry) error {
	for i := range entries {
		if entries[i].ContactID == 0 {
			return fmt.Errorf("queueing broadcast %d: entry to %s has no contact", id, entries[i].To)
		}
		if err := prepareEntry(&entries[i]); err != nil {
			return fmt.Errorf("queueing broadcast %d: %w", id, err)
		}
	}
	byContact := func(a, b store.OutboxEntry) int { return cmp.Compare(a.ContactID, b.ContactID) }
	if !slices.IsSortedFunc(entries, byContact) {
		slices.SortFunc(entries, byContact)
	}
	return nil
}

// QueueBroadcastStream queues the broadcast's messages, one per person its
// audience reaches now on the channels channelOK accepts (nil: all), a
// chunk of 10,000 people at a time, as store.Store.QueueBroadcastStream
// does: it reads the next recipients above QueuedThrough (RecipientsPage),
// has render make their entries outside any transaction, and writes them
// in a transaction of their own (QueueBroadcast's), until the audience is
// done. Called again after a stop it starts above QueuedThrough, so nobody
// is queued twice. It returns how many entries it wrote;
// store.ErrBroadcastClosed for a done or cancelled broadcast. Called with
// a context carrying a transaction (InTx), every chunk joins it.
func (s *Store) QueueBroadcastStream(ctx context.Context, id uint64, channelOK func(channel bot.ChannelName) bool,
	render func([]store.Recipient) ([]store.OutboxEntry, error)) (int, error) {
	total := 0
	for {
		b, err := s.Broadcast(ctx, id)
		if err != nil {
			return total, fmt.Errorf("queueing broadcast %d: %w", id, err)
		}
		if b.Closed() {
			return total, fmt.Errorf("queueing broadcast %d: %w", id, store.ErrBroadcastClosed)
		}
		if b.AllQueued {
			return total, nil
		}
		page, err := s.RecipientsPage(ctx, b.Audience, channelOK, b.QueuedThrough, queueChunk)
		if err != nil {
			return total, fmt.Errorf("queueing broadcast %d: %w", id, err)
		}
		entries, err := render(page.Recipients)
		if err != nil {
			return total, fmt.Errorf("queueing broadcast %d: rendering: %w", id, err)
		}
		if err := prepareBroadcastEntries(id, entries); err != nil {
			return total, err
		}
		written, done, err := s.writeBroadcastChunk(ctx, id, entries, page.Through, page.Last)
		total += written
		if err != nil {
			return total, fmt.Errorf("queueing broadcast %d (%d entries written): %w", id, total, err)
		}
		if done || page.Last {
			return total, nil
		}
	}
}

// lockEntries locks the outbox entries that count towards the broadcast,
// before the broadcast's row is locked: removeEntries deletes entries
// first and then locks their broadcasts, so taking the locks in that
// order too keeps a cancel or a suspension and the dispatchers' outcomes
// from deadlocking. Entries removed meanwhile are skipped.
func lockEntries(ctx context.Context, tx pgx.Tx, id uint64) error {
	_, err := tx.Exec(ctx, `SELECT id FROM outbox WHERE broadcast_id = $1 AND counts ORDER BY id FOR UPDATE`, int64(id))
	return err
}

// CancelBroadcast deletes the broadcast's unsent entries (parked ones
// too) and marks it cancelled, in one transaction holding its row lock,
// returning how many entries it removed, as store.Store.CancelBroadcast
// does. Messages being sent at that moment still go out, counted in none
// of the counters. A done broadcast is left as it is; an unknown one gives
// ErrNotFound.
func (s *Store) CancelBroadcast(ctx context.Context, id uint64) (removed int, err error) {
	err = s.write(ctx, func(tx pgx.Tx) error {
		removed = 0
		if err := lockEntries(ctx, tx, id); err != nil {
			return err
		}
		b, err := readBroadcast(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if b.Status == store.BroadcastDone {
			return nil
		}
		tag, err := tx.Exec(ctx, `DELETE FROM outbox WHERE broadcast_id = $1 AND counts`, int64(id))
		if err != nil {
			return err
		}
		removed = int(tag.RowsAffected())
		b.Cancelled += removed
		if b.Status != store.BroadcastCancelled {
			b.Status = store.BroadcastCancelled
			b.FinishedAt = s.stamp()
		}
		return putBroadcast(ctx, tx, b)
	})
	if err != nil {
		return 0, fmt.Errorf("cancelling broadcast %d: %w", id, err)
	}
	return removed, nil
}

// SuspendBroadcast parks the unsent messages of a broadcast whose author
// may no longer send, in one transaction, as store.Store.SuspendBroadcast
// does: no dispatcher reads or claims them until ResumeBroadcast. A
// broadcast awaiting approval is suspended too. It returns how many
// messages it parked; a done, cancelled or suspended broadcast is left as
// it is.
func (s *Store) SuspendBroadcast(ctx context.Context, id uint64) (parked int, err error) {
	err = s.write(ctx, func(tx pgx.Tx) error {
		parked = 0
		if err := lockEntries(ctx, tx, id); err != nil {
			return err
		}
		b, err := readBroadcast(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if b.Closed() || b.Status == store.BroadcastSuspended {
			return nil
		}
		tag, err := tx.Exec(ctx, `UPDATE outbox SET lane = $2, entry = entry || '{"parked": true}'
			WHERE broadcast_id = $1 AND counts AND lane <> $2`, int64(id), laneParked)
		if err != nil {
			return err
		}
		parked = int(tag.RowsAffected())
		b.SuspendedFrom, b.Status = b.Status, store.BroadcastSuspended
		return putBroadcast(ctx, tx, b)
	})
	if err != nil {
		return 0, fmt.Errorf("suspending broadcast %d: %w", id, err)
	}
	return parked, nil
}

// ResumeBroadcast gives a suspended broadcast to a new author (an admin
// who takes it over) and returns its parked messages to their lanes, in
// one transaction, as store.Store.ResumeBroadcast does; the channels'
// listeners are woken when it commits. A broadcast suspended while it
// awaited approval awaits it again, now from its new author. One not
// suspended gives store.ErrNotSuspended.
func (s *Store) ResumeBroadcast(ctx context.Context, id, author uint64) (*store.Broadcast, error) {
	var out *store.Broadcast
	err := s.write(ctx, func(tx pgx.Tx) error {
		out = nil
		if err := lockEntries(ctx, tx, id); err != nil {
			return err
		}
		b, err := readBroadcast(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if b.Status != store.BroadcastSuspended {
			return fmt.Errorf("broadcast is %s: %w", b.Status, store.ErrNotSuspended)
		}
		if _, err := tx.Exec(ctx, `WITH moved AS (
				UPDATE outbox SET lane = CASE WHEN COALESCE((entry->>'bulk')::boolean, false) THEN $2::smallint ELSE $3::smallint END,
					entry = entry - 'parked'
				WHERE broadcast_id = $1 AND counts AND lane = $4::smallint RETURNING channel)
			SELECT pg_notify($5, channel) FROM (SELECT DISTINCT channel FROM moved) c`,
			int64(id), laneBulk, laneNotice, laneParked, notifyChannel); err != nil {
			return err
		}
		b.Status, b.SuspendedFrom, b.CreatedBy = b.SuspendedFrom, "", author
		if b.Status == store.BroadcastAwaitingApproval {
			b.ApprovedBy = 0
		}
		b.FinishIfComplete(s.stamp())
		if err := putBroadcast(ctx, tx, b); err != nil {
			return err
		}
		out = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("resuming broadcast %d: %w", id, err)
	}
	return out, nil
}
