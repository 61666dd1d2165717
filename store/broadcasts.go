package store

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"
)

// BroadcastStatus is where a broadcast stands.
type BroadcastStatus string

// The broadcast states, in the order they are passed through. Cancelled can
// follow any state but done.
const (
	BroadcastAwaitingApproval BroadcastStatus = "awaiting_approval"
	BroadcastQueued           BroadcastStatus = "queued"
	BroadcastSending          BroadcastStatus = "sending"
	BroadcastDone             BroadcastStatus = "done"
	BroadcastCancelled        BroadcastStatus = "cancelled"
)

// ErrBroadcastClosed means the broadcast is done or cancelled: nothing more
// can be queued for it.
var ErrBroadcastClosed = errors.New("broadcast is done or cancelled")

// queueChunk is how many outbox entries one QueueBroadcast transaction
// writes: big enough to amortise the commit, small enough that a
// transaction's dirty pages stay a few megabytes.
const queueChunk = 10_000

// Broadcast is a coordinator's message to an audience, with its progress.
type Broadcast struct {
	ID         uint64   `json:"id"`
	CampaignID uint64   `json:"campaign_id,omitempty"`
	TextAR     string   `json:"text_ar"`
	TextEN     string   `json:"text_en,omitempty"`
	Audience   Audience `json:"audience"`
	// Urgent broadcasts go out during quiet hours.
	Urgent     bool            `json:"urgent,omitempty"`
	CreatedBy  uint64          `json:"created_by"`
	ApprovedBy uint64          `json:"approved_by,omitempty"`
	Status     BroadcastStatus `json:"status"`
	// Total counts the entries queued so far; Sent, Failed and Blocked the
	// ones accounted for, each in the transaction that removed the entry.
	Total   int `json:"total"`
	Sent    int `json:"sent"`
	Failed  int `json:"failed"`
	Blocked int `json:"blocked"`
	// Cancelled counts the entries removed unsent: by CancelBroadcast, or
	// by OutboxForget for a person who asked to be forgotten. Messages being
	// sent at that moment still go out and are counted in none of these.
	Cancelled int `json:"cancelled,omitempty"`
	// LastError is the reason of the latest failed message.
	LastError  string    `json:"last_error,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	QueuedAt   time.Time `json:"queued_at,omitempty"`
	FinishedAt time.Time `json:"finished_at,omitempty"`
	// StatusMessage maps a coordinator's address to the platform message ID
	// of the progress message shown to them, to be edited in place.
	StatusMessage map[string]string `json:"status_message,omitempty"`
	// QueuedThrough is the highest contact ID queued so far: QueueBroadcast
	// called again after a crash resumes above it.
	QueuedThrough uint64 `json:"queued_through,omitempty"`
	// AllQueued is set by the transaction that queues the last entry.
	AllQueued bool `json:"all_queued,omitempty"`
	// Reported is set once the final report has gone to the creator and the audit log.
	Reported bool `json:"reported,omitempty"`
}

// Left returns how many queued messages are not yet accounted for.
func (b *Broadcast) Left() int {
	return max(b.Total-b.Sent-b.Failed-b.Blocked-b.Cancelled, 0)
}

// Closed reports whether the broadcast is done or cancelled.
func (b *Broadcast) Closed() bool {
	return b.Status == BroadcastDone || b.Status == BroadcastCancelled
}

// finishIfComplete moves a fully queued broadcast whose every message is
// accounted for to done.
func finishIfComplete(b *Broadcast, now time.Time) {
	if b.AllQueued && !b.Closed() && b.Sent+b.Failed+b.Blocked+b.Cancelled >= b.Total {
		b.Status = BroadcastDone
		b.FinishedAt = now
	}
}

// CreateBroadcast stores a new broadcast, setting b.ID; an empty Status
// becomes awaiting_approval and a zero CreatedAt now.
func (s *Store) CreateBroadcast(b *Broadcast) error {
	rec := *b
	if rec.Status == "" {
		rec.Status = BroadcastAwaitingApproval
	}
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = s.stamp()
	}
	err := s.update(func(tx *bbolt.Tx) error {
		bk := tx.Bucket(bucketBroadcasts)
		id, err := bk.NextSequence()
		if err != nil {
			return err
		}
		rec.ID = id
		return putJSON(bk, itob(id), &rec)
	})
	if err != nil {
		return fmt.Errorf("creating broadcast: %w", err)
	}
	*b = rec
	return nil
}

// Broadcast returns the broadcast with the given ID, or ErrNotFound.
func (s *Store) Broadcast(id uint64) (*Broadcast, error) {
	b := &Broadcast{}
	if err := s.view(func(tx *bbolt.Tx) error { return getJSON(tx.Bucket(bucketBroadcasts), itob(id), b) }); err != nil {
		return nil, fmt.Errorf("broadcast %d: %w", id, err)
	}
	return b, nil
}

// Broadcasts returns every broadcast in ID order.
func (s *Store) Broadcasts() ([]Broadcast, error) {
	var out []Broadcast
	err := scanJSON(s, bucketBroadcasts, nil, func(_ []byte, b *Broadcast) error {
		out = append(out, *b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing broadcasts: %w", err)
	}
	return out, nil
}

// UpdateBroadcast reads the broadcast, lets fn change it and writes it back,
// in one transaction; if fn returns an error nothing is written. fn cannot
// change the ID. The counters are the outbox's to keep: change them only to
// repair.
func (s *Store) UpdateBroadcast(id uint64, fn func(*Broadcast) error) (*Broadcast, error) {
	b := &Broadcast{}
	err := s.update(func(tx *bbolt.Tx) error {
		bk := tx.Bucket(bucketBroadcasts)
		if err := getJSON(bk, itob(id), b); err != nil {
			return err
		}
		if err := fn(b); err != nil {
			return err
		}
		b.ID = id
		return putJSON(bk, itob(id), b)
	})
	if err != nil {
		return nil, fmt.Errorf("updating broadcast %d: %w", id, err)
	}
	return b, nil
}

// QueueBroadcast writes one outbox entry per recipient for the broadcast, in
// transactions of 10,000 entries. Each transaction also raises Total and
// QueuedThrough; the first moves the broadcast to queued (so the dispatchers
// start while the rest is written) and the last sets AllQueued. Entries are
// sorted by ContactID in place; each must have one, one per person. Every
// entry gets the broadcast's ID and Urgent flag, Bulk, and Kind "broadcast"
// if it has none.
//
// Entries whose Text is the broadcast's TextAR or TextEN are stored with a
// reference to it rather than a copy, and read with the broadcast's text of
// the moment they are sent.
//
// Resuming: if the process stops half-way, call QueueBroadcast again with
// the recipients worked out afresh. It skips contacts up to QueuedThrough,
// so nobody queued before is queued twice. It returns ErrBroadcastClosed for
// a done or cancelled broadcast (also when a cancel lands while it writes);
// calling it on a broadcast with AllQueued set writes nothing.
func (s *Store) QueueBroadcast(id uint64, entries []OutboxEntry) error {
	return s.queueBroadcast(id, entries, queueChunk)
}

// queueBroadcast is QueueBroadcast with chunk entries per transaction.
func (s *Store) queueBroadcast(id uint64, entries []OutboxEntry, chunk int) error {
	for i := range entries {
		if entries[i].ContactID == 0 {
			return fmt.Errorf("queueing broadcast %d: entry to %s has no contact", id, entries[i].To)
		}
		if err := prepareEntry(&entries[i]); err != nil {
			return fmt.Errorf("queueing broadcast %d: %w", id, err)
		}
	}
	byContact := func(a, b OutboxEntry) int { return cmp.Compare(a.ContactID, b.ContactID) }
	if !slices.IsSortedFunc(entries, byContact) {
		slices.SortFunc(entries, byContact)
	}
	next := 0
	for {
		more := false
		err := s.update(func(tx *bbolt.Tx) error {
			bk := tx.Bucket(bucketBroadcasts)
			b := &Broadcast{}
			if err := getJSON(bk, itob(id), b); err != nil {
				return err
			}
			if b.Closed() {
				return ErrBroadcastClosed
			}
			if b.AllQueued {
				next = len(entries)
				return nil
			}
			// resume above what an interrupted call queued
			for next < len(entries) && entries[next].ContactID <= b.QueuedThrough {
				next++
			}
			end := min(next+chunk, len(entries))
			w := newOutboxWriter(tx)
			for i := next; i < end; i++ {
				e := &entries[i]
				e.BroadcastID, e.Bulk, e.Urgent = id, true, b.Urgent
				if e.Kind == "" {
					e.Kind = "broadcast"
				}
				if err := w.put(e, b); err != nil {
					return err
				}
			}
			if err := w.done(); err != nil {
				return err
			}
			b.Total += end - next
			if end > next {
				b.QueuedThrough = entries[end-1].ContactID
			}
			if b.Status == BroadcastAwaitingApproval || b.Status == "" {
				b.Status = BroadcastQueued
			}
			if b.QueuedAt.IsZero() {
				b.QueuedAt = s.stamp()
			}
			next = end
			more = next < len(entries)
			b.AllQueued = !more
			finishIfComplete(b, s.stamp())
			return putJSON(bk, itob(id), b)
		})
		if err != nil {
			return fmt.Errorf("queueing broadcast %d (%d of %d entries written): %w", id, next, len(entries), err)
		}
		if !more {
			return nil
		}
	}
}

// CancelBroadcast deletes the broadcast's unsent entries and marks it
// cancelled, in one transaction, returning how many entries it removed.
// Messages being sent at that moment still go out. A done broadcast is left
// as it is; an unknown one gives ErrNotFound.
func (s *Store) CancelBroadcast(id uint64) (removed int, err error) {
	err = s.update(func(tx *bbolt.Tx) error {
		removed = 0
		bk := tx.Bucket(bucketBroadcasts)
		b := &Broadcast{}
		if err := getJSON(bk, itob(id), b); err != nil {
			return err
		}
		if b.Status == BroadcastDone {
			return nil
		}
		byBroadcast := tx.Bucket(bucketOutboxByBroadcast)
		prefix := itob(id)
		var keys [][]byte
		c := byBroadcast.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		outbox, ids := tx.Bucket(bucketOutbox), tx.Bucket(bucketOutboxIDs)
		for _, k := range keys {
			if v := ids.Get(k[8:]); len(v) >= 8 {
				if err := outbox.Delete(bytes.Clone(v[8:])); err != nil {
					return err
				}
				if err := ids.Delete(k[8:]); err != nil {
					return err
				}
			}
			if err := byBroadcast.Delete(k); err != nil {
				return err
			}
		}
		removed = len(keys)
		b.Cancelled += removed
		if b.Status != BroadcastCancelled {
			b.Status = BroadcastCancelled
			b.FinishedAt = s.stamp()
		}
		return putJSON(bk, itob(id), b)
	})
	if err != nil {
		return 0, fmt.Errorf("cancelling broadcast %d: %w", id, err)
	}
	return removed, nil
}
