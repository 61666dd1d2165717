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

// Schema, migration 11: reminders are rows of (id, due_at, record): record is the Reminder as
// JSON, due_at its NextFireAt in unix seconds (NULL when it will not fire
// again), read by DueReminders through reminders_due_idx (due_at, id), in
// the order the bbolt store's due index has. A reminder's row lock orders
// the claims of its slot.

// dueAt is the due_at column of a reminder.
func dueAt(r *store.Reminder) *int64 {
	if r.NextFireAt.IsZero() {
		return nil
	}
	u := r.NextFireAt.Unix()
	return &u
}

// putReminder writes r's record and due_at.
func putReminder(ctx context.Context, tx pgx.Tx, r *store.Reminder) error {
	buf, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding reminder %d: %w", r.ID, err)
	}
	_, err = tx.Exec(ctx, `UPDATE reminders SET due_at = $2, record = $3 WHERE id = $1`, int64(r.ID), dueAt(r), buf)
	return err
}

// readReminder reads a reminder, locking its row if lock is set, or
// ErrNotFound.
func readReminder(ctx context.Context, q querier, id uint64, lock bool) (*store.Reminder, error) {
	sql := `SELECT record FROM reminders WHERE id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	var buf []byte
	if err := q.QueryRow(ctx, sql, int64(id)).Scan(&buf); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, store.ErrNotFound
		}
		return nil, err
	}
	return decodeReminder(id, buf)
}

func decodeReminder(id uint64, buf []byte) (*store.Reminder, error) {
	r := &store.Reminder{}
	if err := json.Unmarshal(buf, r); err != nil {
		return nil, fmt.Errorf("decoding reminder %d: %w", id, err)
	}
	r.ID = id
	return r, nil
}

// readReminders reads rows of (id, record).
func readReminders(rows pgx.Rows) ([]store.Reminder, error) {
	var out []store.Reminder
	var (
		id  int64
		buf []byte
	)
	_, err := pgx.ForEachRow(rows, []any{&id, &buf}, func() error {
		r, err := decodeReminder(uint64(id), buf)
		if err != nil {
			return err
		}
		out = append(out, *r)
		return nil
	})
	return out, err
}

func utc(ts ...*time.Time) {
	for _, t := range ts {
		if !t.IsZero() {
			*t = t.UTC()
		}
	}
}

// CreateReminder stores a new reminder, setting r.ID, as
// store.Store.CreateReminder does: a zero NextFireAt becomes At, one of
// them must be set, the audience must be valid, a zero CreatedAt becomes
// now, and times are kept in UTC.
func (s *Store) CreateReminder(ctx context.Context, r *store.Reminder) error {
	rec := *r
	if rec.NextFireAt.IsZero() {
		rec.NextFireAt = rec.At
	}
	if rec.NextFireAt.IsZero() {
		return errors.New("creating reminder: no time to fire at")
	}
	if err := rec.Audience.Validate(); err != nil {
		return fmt.Errorf("creating reminder: %w", err)
	}
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = s.stamp()
	}
	utc(&rec.At, &rec.NextFireAt, &rec.LastFiredSlot, &rec.MissedSlot, &rec.CreatedAt)
	err := s.write(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO reminders (record) VALUES ('{}') RETURNING id`).Scan(&rec.ID); err != nil {
			return err
		}
		return putReminder(ctx, tx, &rec)
	})
	if err != nil {
		return fmt.Errorf("creating reminder: %w", err)
	}
	*r = rec
	return nil
}

// Reminders returns every stored reminder in ID order: scheduled ones and
// missed one-offs.
func (s *Store) Reminders(ctx context.Context) ([]store.Reminder, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT id, record FROM reminders ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("listing reminders: %w", err)
	}
	out, err := readReminders(rows)
	if err != nil {
		return nil, fmt.Errorf("listing reminders: %w", err)
	}
	return out, nil
}

// Reminder returns the reminder with the given ID, or ErrNotFound.
func (s *Store) Reminder(ctx context.Context, id uint64) (*store.Reminder, error) {
	r, err := readReminder(ctx, s.q(ctx), id, false)
	if err != nil {
		return nil, fmt.Errorf("reminder %d: %w", id, err)
	}
	return r, nil
}

// DeleteReminder deletes the reminder; ErrNotFound if there is none.
// Messages it already queued stay queued.
func (s *Store) DeleteReminder(ctx context.Context, id uint64) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM reminders WHERE id = $1`, int64(id))
		if err == nil && tag.RowsAffected() == 0 {
			err = store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting reminder %d: %w", id, err)
	}
	return nil
}

// DueReminders returns the reminders whose NextFireAt is at or before now,
// in the order of the bbolt store's due index: by the second they are due,
// then by ID.
func (s *Store) DueReminders(ctx context.Context, now time.Time) ([]store.Reminder, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT id, record FROM reminders WHERE due_at <= $1 ORDER BY due_at, id`, now.Unix())
	if err != nil {
		return nil, fmt.Errorf("reading due reminders: %w", err)
	}
	all, err := readReminders(rows)
	if err != nil {
		return nil, fmt.Errorf("reading due reminders: %w", err)
	}
	out := all[:0]
	for _, r := range all {
		if !r.NextFireAt.After(now) { // not due later within the same second
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// ClaimReminder fires the reminder's slot, in one transaction, as
// store.Store.ClaimReminder does: if the reminder still waits for slot
// (its NextFireAt), it writes entries to the outbox's bulk lane (setting
// their IDs), sets LastFiredSlot to slot and moves NextFireAt to next; a
// zero next deletes the reminder. Otherwise it writes nothing and returns
// claimed false. The reminder's row lock orders claimers, of one instance
// or several: the one that waited reads what the first committed, so no
// slot fires twice.
func (s *Store) ClaimReminder(ctx context.Context, id uint64, slot, next time.Time, entries []store.OutboxEntry) (claimed bool, err error) {
	for i := range entries {
		entries[i].Bulk = true
		if err := prepareEntry(&entries[i]); err != nil {
			return false, fmt.Errorf("claiming reminder %d: %w", id, err)
		}
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		var err error
		if claimed, err = claimSlot(ctx, tx, id, slot, next); err != nil || !claimed {
			return err
		}
		return writeEntries(ctx, tx, entries, nil, false)
	})
	if err != nil {
		return false, fmt.Errorf("claiming reminder %d for %s: %w", id, slot.UTC().Format(time.RFC3339), err)
	}
	return claimed, nil
}

// ClaimReminderAsBroadcast claims the slot as ClaimReminder does, but
// instead of writing the messages it creates b, with Status queued, in the
// same transaction (setting b.ID and, if zero, CreatedAt), as
// store.Store.ClaimReminderAsBroadcast does. Nothing is created when
// claimed is false.
func (s *Store) ClaimReminderAsBroadcast(ctx context.Context, id uint64, slot, next time.Time, b *store.Broadcast) (claimed bool, err error) {
	rec := *b
	rec.Status = store.BroadcastQueued
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = s.stamp()
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		var err error
		if claimed, err = claimSlot(ctx, tx, id, slot, next); err != nil || !claimed {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO broadcasts (record) VALUES ('{}') RETURNING id`).Scan(&rec.ID); err != nil {
			return err
		}
		return putBroadcast(ctx, tx, &rec)
	})
	if err != nil {
		return false, fmt.Errorf("claiming reminder %d for %s: %w", id, slot.UTC().Format(time.RFC3339), err)
	}
	if claimed {
		*b = rec
	}
	return claimed, nil
}

// claimSlot advances the reminder past slot inside tx, if it still waits
// for it, and reports whether it did.
func claimSlot(ctx context.Context, tx pgx.Tx, id uint64, slot, next time.Time) (bool, error) {
	r, ok, err := waitingReminder(ctx, tx, id, slot)
	if err != nil || !ok {
		return false, err
	}
	r.LastFiredSlot = slot.UTC()
	r.NextFireAt = next.UTC()
	if r.NextFireAt.IsZero() {
		_, err := tx.Exec(ctx, `DELETE FROM reminders WHERE id = $1`, int64(id))
		return err == nil, err
	}
	return true, putReminder(ctx, tx, r)
}

// waitingReminder locks and loads the reminder if it still waits for slot.
func waitingReminder(ctx context.Context, tx pgx.Tx, id uint64, slot time.Time) (*store.Reminder, bool, error) {
	r, err := readReminder(ctx, tx, id, true)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	return r, r.NextFireAt.Equal(slot), nil
}

// MarkReminderMissed records that slot passed unsent, in one transaction,
// as store.Store.MarkReminderMissed does: Missed and MissedSlot are set
// and NextFireAt moves to next; a one-off (zero next) stays stored, never
// due, so /remind list shows it. entries are written to the outbox in the
// same transaction. If the reminder no longer waits for slot, nothing is
// written.
func (s *Store) MarkReminderMissed(ctx context.Context, id uint64, slot, next time.Time, entries ...store.OutboxEntry) error {
	for i := range entries {
		if err := prepareEntry(&entries[i]); err != nil {
			return fmt.Errorf("marking reminder %d missed: %w", id, err)
		}
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		r, ok, err := waitingReminder(ctx, tx, id, slot)
		if err != nil || !ok {
			return err
		}
		if err := writeEntries(ctx, tx, entries, nil, false); err != nil {
			return err
		}
		r.Missed, r.MissedSlot = true, slot.UTC()
		r.NextFireAt = next.UTC()
		return putReminder(ctx, tx, r)
	})
	if err != nil {
		return fmt.Errorf("marking reminder %d missed at %s: %w", id, slot.UTC().Format(time.RFC3339), err)
	}
	return nil
}

// UpdateReminder reads the reminder, lets fn change it and writes it back,
// in one transaction holding its row lock, keeping due_at in step with
// NextFireAt; if fn returns an error nothing is written and the error is
// returned wrapped.
func (s *Store) UpdateReminder(ctx context.Context, id uint64, fn func(*store.Reminder) error) (*store.Reminder, error) {
	var out *store.Reminder
	err := s.write(ctx, func(tx pgx.Tx) error {
		out = nil
		r, err := readReminder(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
		r.ID = id
		utc(&r.At, &r.NextFireAt, &r.LastFiredSlot, &r.MissedSlot)
		if err := putReminder(ctx, tx, r); err != nil {
			return err
		}
		out = r
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("updating reminder %d: %w", id, err)
	}
	return out, nil
}
