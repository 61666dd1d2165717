package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"mobilise/bot"

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
	// BroadcastSuspended: its author lost the right to send (dismissed, or
	// forgot themself); its unsent messages are parked until an admin takes
	// it over (ResumeBroadcast) or drops it (CancelBroadcast).
	BroadcastSuspended BroadcastStatus = "suspended"
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
	// Media is the file every copy carries, its text as the caption.
	Media *Media `json:"media,omitempty"`
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
	// SuspendedFrom is the status a suspended broadcast had.
	SuspendedFrom BroadcastStatus `json:"suspended_from,omitempty"`
	// Recipients is how many people the audience reached when the broadcast
	// was submitted; the approval covers that many.
	Recipients int `json:"recipients,omitempty"`
	// StatusEntry is the outbox entry of a progress report not yet sent, so
	// the next report replaces its text rather than queueing another.
	StatusEntry uint64 `json:"status_entry,omitempty"`
	// Organiser is who the broadcast is from, as its recipients read it.
	Organiser Organiser `json:"organiser,omitzero"`
}

// Left returns how many queued messages are not yet accounted for.
func (b *Broadcast) Left() int {
	return max(b.Total-b.Sent-b.Failed-b.Blocked-b.Cancelled, 0)
}

// Closed reports whether the broadcast is done or cancelled.
func (b *Broadcast) Closed() bool {
	return b.Status == BroadcastDone || b.Status == BroadcastCancelled
}

// FinishIfComplete moves a fully queued broadcast whose every message is
// accounted for to done: the rule of both stores, in the transaction that
// accounts for its last message.
func (b *Broadcast) FinishIfComplete(now time.Time) {
	if b.AllQueued && !b.Closed() && b.Sent+b.Failed+b.Blocked+b.Cancelled >= b.Total {
		b.Status = BroadcastDone
		b.FinishedAt = now
	}
}

// CreateBroadcast stores a new broadcast, setting b.ID; an empty Status
// becomes awaiting_approval and a zero CreatedAt now.
func (s *Store) CreateBroadcast(ctx context.Context, b *Broadcast) error {
	rec := *b
	if rec.Status == "" {
		rec.Status = BroadcastAwaitingApproval
	}
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = s.stamp()
	}
	err := s.write(ctx, func(tx *bbolt.Tx) error {
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
func (s *Store) Broadcast(ctx context.Context, id uint64) (*Broadcast, error) {
	b := &Broadcast{}
	if err := s.read(ctx, func(tx *bbolt.Tx) error { return getJSON(tx.Bucket(bucketBroadcasts), itob(id), b) }); err != nil {
		return nil, fmt.Errorf("broadcast %d: %w", id, err)
	}
	return b, nil
}

// Broadcasts returns every broadcast in ID order.
func (s *Store) Broadcasts(ctx context.Context) ([]Broadcast, error) {
	var out []Broadcast
	err := scanJSON(ctx, s, bucketBroadcasts, nil, func(_ []byte, b *Broadcast) error {
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
func (s *Store) UpdateBroadcast(ctx context.Context, id uint64, fn func(*Broadcast) error) (*Broadcast, error) {
	b := &Broadcast{}
	err := s.write(ctx, func(tx *bbolt.Tx) error {
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
func (s *Store) QueueBroadcast(ctx context.Context, id uint64, entries []OutboxEntry) error {
	return s.queueBroadcast(ctx, id, entries, queueChunk)
}

// queueBroadcast is QueueBroadcast with chunk entries per transaction.
func (s *Store) queueBroadcast(ctx context.Context, id uint64, entries []OutboxEntry, chunk int) error {
	if err := prepareBroadcastEntries(id, entries); err != nil {
		return err
	}
	next := 0
	for {
		end := min(next+chunk, len(entries))
		var through uint64
		if end > next {
			through = entries[end-1].ContactID
		}
		_, done, err := s.writeBroadcastChunk(ctx, id, entries[next:end], through, end == len(entries))
		if err != nil {
			return fmt.Errorf("queueing broadcast %d (%d of %d entries written): %w", id, next, len(entries), err)
		}
		next = end
		if done || next == len(entries) {
			return nil
		}
	}
}

// prepareBroadcastEntries checks a broadcast's entries and sorts them by
// contact, in place.
func prepareBroadcastEntries(id uint64, entries []OutboxEntry) error {
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
	return nil
}

// writeBroadcastChunk writes, in one transaction, the entries of a chunk of
// the broadcast's recipients, sorted by contact, covering contacts up to
// through; last says it is the final chunk. Entries of contacts queued
// already (at or below QueuedThrough) are skipped. It returns how many it
// wrote, and done when the broadcast was all queued already. Each
// transaction raises Total and QueuedThrough; the first moves the broadcast
// to queued, the last sets AllQueued.
func (s *Store) writeBroadcastChunk(ctx context.Context, id uint64, entries []OutboxEntry, through uint64, last bool) (written int, done bool, err error) {
	err = s.write(ctx, func(tx *bbolt.Tx) error {
		written, done = 0, false
		bk := tx.Bucket(bucketBroadcasts)
		b := &Broadcast{}
		if err := getJSON(bk, itob(id), b); err != nil {
			return err
		}
		if b.Closed() {
			return ErrBroadcastClosed
		}
		if b.AllQueued {
			done = true
			return nil
		}
		// resume above what an interrupted call queued
		first := 0
		for first < len(entries) && entries[first].ContactID <= b.QueuedThrough {
			first++
		}
		w := newOutboxWriter(tx)
		for i := first; i < len(entries); i++ {
			e := &entries[i]
			e.BroadcastID, e.Bulk, e.Urgent = id, true, b.Urgent
			// a suspended broadcast's messages wait parked, as its others do
			e.Parked = b.Status == BroadcastSuspended
			if e.Kind == "" {
				e.Kind = KindBroadcast
			}
			if err := w.put(e, b); err != nil {
				return err
			}
		}
		if err := w.done(); err != nil {
			return err
		}
		written = len(entries) - first
		b.Total += written
		b.QueuedThrough = max(b.QueuedThrough, through)
		switch b.Status {
		case BroadcastAwaitingApproval, "":
			b.Status = BroadcastQueued
		case BroadcastSuspended:
			if b.SuspendedFrom == BroadcastAwaitingApproval {
				b.SuspendedFrom = BroadcastQueued
			}
		}
		if b.QueuedAt.IsZero() {
			b.QueuedAt = s.stamp()
		}
		b.AllQueued = last
		b.FinishIfComplete(s.stamp())
		return putJSON(bk, itob(id), b)
	})
	return written, done, err
}

// QueueBroadcastStream queues the broadcast's messages, one per person its
// audience reaches now on the channels channelOK accepts (nil: all), as
// QueueBroadcast does, but a chunk of people at a time: it reads the next
// 10,000 recipients above QueuedThrough (RecipientsPage), has render make
// their entries outside any transaction, and writes them in a transaction
// of their own, until the audience is done. Memory then holds one chunk,
// whatever the audience. render returns one entry per recipient it keeps,
// each with the recipient's ContactID.
//
// Resuming is as with QueueBroadcast: called again after a stop, it starts
// above QueuedThrough, so nobody is queued twice. It returns how many
// entries it wrote; ErrBroadcastClosed for a done or cancelled broadcast.
// Called with a context carrying a transaction (InTx), every chunk joins it.
func (s *Store) QueueBroadcastStream(ctx context.Context, id uint64, channelOK func(channel bot.ChannelName) bool,
	render func([]Recipient) ([]OutboxEntry, error)) (int, error) {
	return s.queueBroadcastStream(ctx, id, channelOK, render, queueChunk)
}

func (s *Store) queueBroadcastStream(ctx context.Context, id uint64, channelOK func(channel bot.ChannelName) bool,
	render func([]Recipient) ([]OutboxEntry, error), chunk int) (int, error) {
	total := 0
	for {
		b, err := s.Broadcast(ctx, id)
		if err != nil {
			return total, fmt.Errorf("queueing broadcast %d: %w", id, err)
		}
		if b.Closed() {
			return total, fmt.Errorf("queueing broadcast %d: %w", id, ErrBroadcastClosed)
		}
		if b.AllQueued {
			return total, nil
		}
		page, err := s.RecipientsPage(ctx, b.Audience, channelOK, b.QueuedThrough, chunk)
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

// CancelBroadcast deletes the broadcast's unsent entries and marks it
// cancelled, in one transaction, returning how many entries it removed.
// Messages being sent at that moment still go out. A done broadcast is left
// as it is; an unknown one gives ErrNotFound.
func (s *Store) CancelBroadcast(ctx context.Context, id uint64) (removed int, err error) {
	err = s.write(ctx, func(tx *bbolt.Tx) error {
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

// SetStatusMessage records the platform ID of the progress message shown to
// the broadcast's author at to, so the next report edits it in place.
func (s *Store) SetStatusMessage(ctx context.Context, broadcastID uint64, to bot.Address, messageID string) error {
	_, err := s.UpdateBroadcast(ctx, broadcastID, func(b *Broadcast) error {
		if b.StatusMessage == nil {
			b.StatusMessage = map[string]string{}
		}
		b.StatusMessage[to.String()] = messageID
		return nil
	})
	return err
}

// SuspendBroadcast parks the unsent messages of a broadcast whose author
// may no longer send, in one transaction: the dispatchers do not see them
// until ResumeBroadcast. A broadcast awaiting approval is suspended too, so
// no one approves it by mistake. It returns how many messages it parked;
// a done, cancelled or suspended broadcast is left as it is.
func (s *Store) SuspendBroadcast(ctx context.Context, id uint64) (parked int, err error) {
	err = s.write(ctx, func(tx *bbolt.Tx) error {
		parked = 0
		bk := tx.Bucket(bucketBroadcasts)
		b := &Broadcast{}
		if err := getJSON(bk, itob(id), b); err != nil {
			return err
		}
		if b.Closed() || b.Status == BroadcastSuspended {
			return nil
		}
		var err error
		if parked, err = moveBroadcastEntries(tx, id, true); err != nil {
			return err
		}
		b.SuspendedFrom, b.Status = b.Status, BroadcastSuspended
		return putJSON(bk, itob(id), b)
	})
	if err != nil {
		return 0, fmt.Errorf("suspending broadcast %d: %w", id, err)
	}
	return parked, nil
}

// ResumeBroadcast gives a suspended broadcast to a new author (an admin who
// takes it over) and returns its parked messages to the outbox, in one
// transaction. A broadcast suspended while it awaited approval awaits it
// again, now from its new author. It returns the broadcast.
func (s *Store) ResumeBroadcast(ctx context.Context, id, author uint64) (*Broadcast, error) {
	b := &Broadcast{}
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		bk := tx.Bucket(bucketBroadcasts)
		if err := getJSON(bk, itob(id), b); err != nil {
			return err
		}
		if b.Status != BroadcastSuspended {
			return fmt.Errorf("broadcast is %s: %w", b.Status, ErrNotSuspended)
		}
		if _, err := moveBroadcastEntries(tx, id, false); err != nil {
			return err
		}
		b.Status, b.SuspendedFrom, b.CreatedBy = b.SuspendedFrom, "", author
		if b.Status == BroadcastAwaitingApproval {
			b.ApprovedBy = 0
		}
		b.FinishIfComplete(s.stamp())
		return putJSON(bk, itob(id), b)
	})
	if err != nil {
		return nil, fmt.Errorf("resuming broadcast %d: %w", id, err)
	}
	return b, nil
}

// ErrNotSuspended means a broadcast or reminder to take over is not suspended.
var ErrNotSuspended = errors.New("not suspended")

// moveBroadcastEntries parks the broadcast's queued entries (park) or
// returns them to the bulk lane, re-keying them and their ID index.
func moveBroadcastEntries(tx *bbolt.Tx, id uint64, park bool) (int, error) {
	byBroadcast := tx.Bucket(bucketOutboxByBroadcast)
	outbox, ids := tx.Bucket(bucketOutbox), tx.Bucket(bucketOutboxIDs)
	prefix := itob(id)
	var entryIDs [][]byte
	c := byBroadcast.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		entryIDs = append(entryIDs, bytes.Clone(k[8:]))
	}
	moved := 0
	for _, eid := range entryIDs {
		v := ids.Get(eid)
		if len(v) < 8 {
			continue
		}
		oldKey := bytes.Clone(v[8:])
		rec := outboxRecord{OutboxEntry: &OutboxEntry{}}
		buf := outbox.Get(oldKey)
		if buf == nil {
			continue
		}
		if err := json.Unmarshal(buf, &rec); err != nil {
			return 0, fmt.Errorf("decoding outbox entry %d: %w", btoi(eid), err)
		}
		if rec.Parked == park {
			continue
		}
		rec.Parked = park
		newKey := outboxKey(rec.Channel, rec.lane(), rec.ID)
		if err := outbox.Delete(oldKey); err != nil {
			return 0, err
		}
		if err := putJSON(outbox, newKey, &rec); err != nil {
			return 0, err
		}
		if err := ids.Put(eid, idsValue(id, newKey)); err != nil {
			return 0, err
		}
		moved++
	}
	return moved, nil
}
