package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"mobilise/bot/schedule"

	"go.etcd.io/bbolt"
)

// ReminderKind says who a reminder is for and why.
type ReminderKind string

// Reminder kinds.
const (
	ReminderCustom    ReminderKind = "custom"    // scheduled by a coordinator with /remind
	ReminderEvent     ReminderKind = "event"     // before a campaign's event, to those signed up
	ReminderLifecycle ReminderKind = "lifecycle" // a campaign's opening, closing and milestones
)

// Reminder is a scheduled message to an audience: once at At, or on every
// slot of its Schedule. Firing is two steps (mailroom's): DueReminders reads
// what is due, then ClaimReminder, in one transaction, writes its messages
// to the outbox and moves NextFireAt on, so a slot fires at most once even
// across restarts.
type Reminder struct {
	ID         uint64   `json:"id"`
	CampaignID uint64   `json:"campaign_id,omitempty"`
	TextAR     string   `json:"text_ar"`
	TextEN     string   `json:"text_en,omitempty"`
	Audience   Audience `json:"audience"`
	// Schedule is how a recurring reminder repeats; nil for a one-off.
	Schedule *schedule.Schedule `json:"schedule,omitempty"`
	// Spec is the cron spec of a recurring reminder written before
	// schedules were kept in words; Schedule is used instead when set.
	Spec string `json:"spec,omitempty"`
	// At is a one-off reminder's time.
	At time.Time `json:"at,omitempty"`
	// NextFireAt is the slot the reminder fires at next; zero when it will
	// not fire again (a missed one-off kept for the record).
	NextFireAt time.Time `json:"next_fire_at,omitempty"`
	// LastFiredSlot is the slot of the latest firing.
	LastFiredSlot time.Time `json:"last_fired_slot,omitempty"`
	CreatedBy     uint64    `json:"created_by,omitempty"`
	// Organiser is who the reminder is from, as its recipients read it.
	Organiser Organiser `json:"organiser,omitzero"`
	// ApprovedBy is the admin, other than its author, who approved a
	// reminder whose audience is over the approval threshold, and
	// ApprovedFor the number of people that approval covers.
	ApprovedBy  uint64 `json:"approved_by,omitempty"`
	ApprovedFor int    `json:"approved_for,omitempty"`
	// AwaitingApproval holds the reminder's due slot until an admin other
	// than its author approves it: its audience, Recipients people, is over
	// the threshold and over what any approval covers.
	AwaitingApproval bool `json:"awaiting_approval,omitempty"`
	Recipients       int  `json:"recipients,omitempty"`
	// Suspended stops the reminder: its author may no longer send
	// (dismissed, or forgot themself). An admin takes it over or drops it.
	Suspended bool `json:"suspended,omitempty"`
	// Kind is ReminderCustom, ReminderEvent or ReminderLifecycle.
	Kind ReminderKind `json:"kind,omitempty"`
	// Missed is set when a slot passed while the bot was down for longer
	// than the grace period; MissedSlot is that slot.
	Missed     bool      `json:"missed,omitempty"`
	MissedSlot time.Time `json:"missed_slot,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// dueKey is (next fire unix seconds ‖ reminder id).
func dueKey(at time.Time, id uint64) []byte {
	k := make([]byte, 16)
	copy(k, itob(uint64(at.Unix())))
	copy(k[8:], itob(id))
	return k
}

// setDue moves r's due-index entry from old to r.NextFireAt (none when zero).
func setDue(tx *bbolt.Tx, r *Reminder, old time.Time) error {
	due := tx.Bucket(bucketRemindersDue)
	if !old.IsZero() {
		if err := due.Delete(dueKey(old, r.ID)); err != nil {
			return err
		}
	}
	if r.NextFireAt.IsZero() {
		return nil
	}
	return due.Put(dueKey(r.NextFireAt, r.ID), nil)
}

// CreateReminder stores a new reminder and its due-index entry in one
// transaction, setting r.ID. A zero NextFireAt becomes At; one of them must
// be set (the caller computes a recurring reminder's first slot from Spec in
// the coalition's time zone). A zero CreatedAt becomes now; times are kept
// in UTC.
func (s *Store) CreateReminder(ctx context.Context, r *Reminder) error {
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
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketReminders)
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		rec.ID = id
		if err := putJSON(b, itob(id), &rec); err != nil {
			return err
		}
		return setDue(tx, &rec, time.Time{})
	})
	if err != nil {
		return fmt.Errorf("creating reminder: %w", err)
	}
	*r = rec
	return nil
}

func utc(ts ...*time.Time) {
	for _, t := range ts {
		if !t.IsZero() {
			*t = t.UTC()
		}
	}
}

// Reminders returns every stored reminder in ID order: scheduled ones and
// missed one-offs.
func (s *Store) Reminders(ctx context.Context) ([]Reminder, error) {
	var out []Reminder
	err := scanJSON(ctx, s, bucketReminders, nil, func(_ []byte, r *Reminder) error {
		out = append(out, *r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing reminders: %w", err)
	}
	return out, nil
}

// Reminder returns the reminder with the given ID, or ErrNotFound.
func (s *Store) Reminder(ctx context.Context, id uint64) (*Reminder, error) {
	r := &Reminder{}
	if err := s.read(ctx, func(tx *bbolt.Tx) error { return getJSON(tx.Bucket(bucketReminders), itob(id), r) }); err != nil {
		return nil, fmt.Errorf("reminder %d: %w", id, err)
	}
	return r, nil
}

// DeleteReminder deletes the reminder and its due-index entry; ErrNotFound
// if there is none. Messages it already queued stay queued.
func (s *Store) DeleteReminder(ctx context.Context, id uint64) error {
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketReminders)
		r := &Reminder{}
		if err := getJSON(b, itob(id), r); err != nil {
			return err
		}
		old := r.NextFireAt
		r.NextFireAt = time.Time{}
		if err := setDue(tx, r, old); err != nil {
			return err
		}
		return b.Delete(itob(id))
	})
	if err != nil {
		return fmt.Errorf("deleting reminder %d: %w", id, err)
	}
	return nil
}

// DueReminders returns the reminders whose NextFireAt is at or before now,
// earliest first, from one read of the due index.
func (s *Store) DueReminders(ctx context.Context, now time.Time) ([]Reminder, error) {
	var out []Reminder
	limit := uint64(now.Unix())
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketReminders)
		c := tx.Bucket(bucketRemindersDue).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if len(k) != 16 {
				return fmt.Errorf("due index key %x is not 16 bytes", k)
			}
			if btoi(k[:8]) > limit {
				break
			}
			var r Reminder
			if err := getJSON(b, k[8:], &r); err != nil {
				return fmt.Errorf("reminder %d in the due index: %w", btoi(k[8:]), err)
			}
			if r.NextFireAt.After(now) {
				continue // due later within the same second
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading due reminders: %w", err)
	}
	return out, nil
}

// ClaimReminder fires the reminder's slot, in one transaction: if the
// reminder still waits for slot (its NextFireAt), it writes entries to the
// outbox's bulk lane (setting their IDs), sets LastFiredSlot to slot and
// moves NextFireAt and the due index to next; a zero next deletes the
// reminder. Otherwise, because the slot was claimed already (before a
// restart, say) or the reminder was deleted, it writes nothing and returns
// claimed false. So no slot fires twice.
//
// All entries go in one transaction; for an audience of tens of thousands
// use ClaimReminderAsBroadcast.
func (s *Store) ClaimReminder(ctx context.Context, id uint64, slot, next time.Time, entries []OutboxEntry) (claimed bool, err error) {
	for i := range entries {
		if err := prepareEntry(&entries[i]); err != nil {
			return false, fmt.Errorf("claiming reminder %d: %w", id, err)
		}
	}
	err = s.write(ctx, func(tx *bbolt.Tx) error {
		var err error
		if claimed, err = claimSlot(tx, id, slot, next); err != nil || !claimed {
			return err
		}
		return writeEntries(tx, entries, true)
	})
	if err != nil {
		return false, fmt.Errorf("claiming reminder %d for %s: %w", id, slot.UTC().Format(time.RFC3339), err)
	}
	return claimed, nil
}

// ClaimReminderAsBroadcast claims the slot as ClaimReminder does, but
// instead of writing the messages it creates b, with Status queued, in the
// same transaction (setting b.ID and, if zero, CreatedAt). The caller then
// writes the messages with QueueBroadcast(b.ID, entries), in chunks that
// resume after a crash, and gets a broadcast's progress and cancel for the
// reminder. Nothing is created when claimed is false.
func (s *Store) ClaimReminderAsBroadcast(ctx context.Context, id uint64, slot, next time.Time, b *Broadcast) (claimed bool, err error) {
	rec := *b
	rec.Status = BroadcastQueued
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = s.stamp()
	}
	err = s.write(ctx, func(tx *bbolt.Tx) error {
		var err error
		if claimed, err = claimSlot(tx, id, slot, next); err != nil || !claimed {
			return err
		}
		bk := tx.Bucket(bucketBroadcasts)
		if rec.ID, err = bk.NextSequence(); err != nil {
			return err
		}
		return putJSON(bk, itob(rec.ID), &rec)
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
func claimSlot(tx *bbolt.Tx, id uint64, slot, next time.Time) (bool, error) {
	r, ok, err := waitingReminder(tx, id, slot)
	if err != nil || !ok {
		return false, err
	}
	r.LastFiredSlot = slot.UTC()
	r.NextFireAt = next.UTC()
	if err := setDue(tx, r, slot); err != nil {
		return false, err
	}
	if r.NextFireAt.IsZero() {
		return true, tx.Bucket(bucketReminders).Delete(itob(id))
	}
	return true, putJSON(tx.Bucket(bucketReminders), itob(id), r)
}

// waitingReminder loads the reminder if it still waits for slot.
func waitingReminder(tx *bbolt.Tx, id uint64, slot time.Time) (*Reminder, bool, error) {
	r := &Reminder{}
	switch err := getJSON(tx.Bucket(bucketReminders), itob(id), r); {
	case errors.Is(err, ErrNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	return r, r.NextFireAt.Equal(slot), nil
}

// MarkReminderMissed records that slot passed unsent, in one transaction:
// Missed and MissedSlot are set and NextFireAt moves to next; a one-off
// (zero next) stays stored, out of the due index, so /remind list shows it.
// entries (telling the coordinator) are written to the outbox in the same
// transaction. If the reminder no longer waits for slot, nothing is written.
func (s *Store) MarkReminderMissed(ctx context.Context, id uint64, slot, next time.Time, entries ...OutboxEntry) error {
	for i := range entries {
		if err := prepareEntry(&entries[i]); err != nil {
			return fmt.Errorf("marking reminder %d missed: %w", id, err)
		}
	}
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		r, ok, err := waitingReminder(tx, id, slot)
		if err != nil || !ok {
			return err
		}
		if err := writeEntries(tx, entries, false); err != nil {
			return err
		}
		r.Missed, r.MissedSlot = true, slot.UTC()
		r.NextFireAt = next.UTC()
		if err := setDue(tx, r, slot); err != nil {
			return err
		}
		return putJSON(tx.Bucket(bucketReminders), itob(id), r)
	})
	if err != nil {
		return fmt.Errorf("marking reminder %d missed at %s: %w", id, slot.UTC().Format(time.RFC3339), err)
	}
	return nil
}

// checkReminders checks, inside tx, that reminders and the due index agree
// both ways.
func checkReminders(tx *bbolt.Tx, report reportFunc) {
	reminders, due := tx.Bucket(bucketReminders), tx.Bucket(bucketRemindersDue)
	_ = reminders.ForEach(func(k, _ []byte) error {
		var r Reminder
		if err := getJSON(reminders, k, &r); err != nil {
			report("reminder %d: %w", btoi(k), err)
			return nil
		}
		if r.ID != btoi(k) {
			report("reminder under key %d has ID %d", btoi(k), r.ID)
		}
		if !r.NextFireAt.IsZero() && due.Get(dueKey(r.NextFireAt, r.ID)) == nil {
			report("reminder %d due at %s is not in the due index", r.ID, r.NextFireAt)
		}
		return nil
	})
	_ = due.ForEach(func(k, _ []byte) error {
		var r Reminder
		if len(k) != 16 {
			report("reminders_due key %x is not 16 bytes", k)
			return nil
		}
		if err := getJSON(reminders, k[8:], &r); err != nil {
			report("due index lists reminder %d: %w", btoi(k[8:]), err)
		} else if !bytes.Equal(dueKey(r.NextFireAt, r.ID), k) {
			report("due index lists reminder %d at %d, it is due at %s", r.ID, btoi(k[:8]), r.NextFireAt)
		}
		return nil
	})
}

// UpdateReminder reads the reminder, lets fn change it and writes it back,
// in one transaction, keeping the due index in step with NextFireAt; if fn
// returns an error nothing is written and the error is returned wrapped.
func (s *Store) UpdateReminder(ctx context.Context, id uint64, fn func(*Reminder) error) (*Reminder, error) {
	r := &Reminder{}
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketReminders)
		if err := getJSON(b, itob(id), r); err != nil {
			return err
		}
		old := r.NextFireAt
		if err := fn(r); err != nil {
			return err
		}
		r.ID = id
		utc(&r.At, &r.NextFireAt, &r.LastFiredSlot, &r.MissedSlot)
		if !r.NextFireAt.Equal(old) {
			if err := setDue(tx, r, old); err != nil {
				return err
			}
		}
		return putJSON(b, itob(id), r)
	})
	if err != nil {
		return nil, fmt.Errorf("updating reminder %d: %w", id, err)
	}
	return r, nil
}
