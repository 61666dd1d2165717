package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"mobilise/bot"

	"go.etcd.io/bbolt"
)

// Bucket names of schema version 2.
var (
	bucketOutbox            = []byte("outbox")
	bucketOutboxIDs         = []byte("outbox_ids")
	bucketOutboxByBroadcast = []byte("outbox_by_broadcast")
	bucketOutboxSent        = []byte("outbox_sent")
	bucketBroadcasts        = []byte("broadcasts")
	bucketReminders         = []byte("reminders")
	bucketRemindersDue      = []byte("reminders_due")
)

// MessageKind says what a queued message is.
type MessageKind string

// The kinds of messages the bot itself queues; notices have kinds of their
// own, named by what they tell ("target_reached", "broadcast_approval").
const (
	// KindReply answers what the person just wrote.
	KindReply MessageKind = "reply"
	// KindBroadcast is one recipient's copy of a broadcast.
	KindBroadcast MessageKind = "broadcast"
	// KindReminder is one recipient's copy of a reminder.
	KindReminder MessageKind = "reminder"
)

// Outbox lanes: a channel's dispatcher drains notices before bulk messages,
// so a reply-like notice is not stuck behind a broadcast that takes hours.
const (
	laneNotice byte = 0
	laneBulk   byte = 1
	laneParked byte = 2
)

// sentKept is how long outbox_sent remembers per-minute counts: long enough
// to count "today" in any time zone.
const sentKept = 48 * time.Hour

// fillPercent packs the outbox's buckets tighter than bbolt's default
// half-full pages: new keys come at the end of their channel's lane (or of
// the bucket), so pages are rarely split in the middle.
const fillPercent = 0.9

// OutboxEntry is one message waiting to be sent: a notice, a reminder or one
// recipient's copy of a broadcast. Entries of one channel are sent in ID
// order per recipient.
type OutboxEntry struct {
	// ID comes from one sequence for all channels, so it orders every
	// message ever queued.
	ID uint64 `json:"id"`
	// Channel is To's channel; empty when queueing means To's.
	Channel bot.ChannelName `json:"channel"`
	// To is where the message goes.
	To        bot.Address    `json:"to"`
	ContactID uint64         `json:"contact_id,omitempty"`
	Text      string         `json:"text,omitempty"`
	Buttons   [][]bot.Button `json:"buttons,omitempty"`
	// Lang is the language Text is written in.
	Lang string `json:"lang,omitempty"`
	// Media is a file sent with Text as its caption (bot.Outgoing.Media).
	Media *Media `json:"media,omitempty"`
	// PhoneButton labels a one-tap way to share a phone number (bot.Outgoing.PhoneButton).
	PhoneButton string `json:"phone_button,omitempty"`
	// Edit, when set, is the platform ID of a message already sent to To
	// that this entry replaces (a broadcast's progress, edited in place).
	Edit string `json:"edit,omitempty"`
	// StatusOf names the broadcast whose progress this entry shows its
	// author: once sent, its platform message ID is recorded on the
	// broadcast (SetStatusMessage), so later progress edits it.
	StatusOf uint64 `json:"status_of,omitempty"`
	// BroadcastID names the broadcast the entry belongs to; only entries
	// written by QueueBroadcast count towards its Sent, Failed and Blocked.
	BroadcastID uint64 `json:"broadcast_id,omitempty"`
	// Kind says what the message is, for logs and gates: KindBroadcast,
	// KindReminder, KindReply, or a notice's kind such as "target_reached".
	Kind MessageKind `json:"kind,omitempty"`
	// Bulk entries (broadcasts and reminders; QueueBroadcast and
	// ClaimReminder set it) are sent after every pending non-bulk entry of
	// their channel, so a notice may overtake a broadcast to the same person
	// but bulk messages keep their order among themselves, as notices do.
	Bulk bool `json:"bulk,omitempty"`
	// Urgent entries go out during quiet hours.
	Urgent bool `json:"urgent,omitempty"`
	// Before is when the message stops being of use (the event a reminder
	// announces): quiet hours may hold it only so long as it still arrives
	// before then.
	Before   time.Time `json:"before,omitempty"`
	Attempts int       `json:"attempts,omitempty"`
	// NotBefore holds the entry back until then (a retry's backoff).
	NotBefore time.Time `json:"not_before,omitempty"`
	// Parked entries belong to a suspended broadcast: they sit in a lane of
	// their own that no dispatcher reads (see SuspendBroadcast).
	Parked bool `json:"parked,omitempty"`
	// Started is set just before a send on channels that deliver at most
	// once; an entry found started after a crash is not sent again.
	Started   time.Time `json:"started,omitempty"`
	LastError string    `json:"last_error,omitempty"`
}

// outboxRecord is an entry as stored. A broadcast's copies of its own text
// refer to it instead of repeating it: 100,000 copies of a long Arabic text
// would otherwise be most of what QueueBroadcast writes.
type outboxRecord struct {
	*OutboxEntry
	// TextRef is "ar" or "en" when Text is the broadcast's TextAR or TextEN.
	TextRef string `json:"text_ref,omitempty"`
}

// decodeEntry decodes a stored entry; resolve fills in referenced text.
func decodeEntry(v []byte, e *OutboxEntry, resolve func(bid uint64, ref string) (string, error)) error {
	rec := outboxRecord{OutboxEntry: e}
	if err := json.Unmarshal(v, &rec); err != nil {
		return err
	}
	if rec.TextRef == "" {
		return nil
	}
	text, err := resolve(e.BroadcastID, rec.TextRef)
	if err != nil {
		return err
	}
	e.Text = text
	return nil
}

// broadcastTexts resolves text references inside one transaction, reading
// each broadcast once.
func broadcastTexts(tx *bbolt.Tx) func(bid uint64, ref string) (string, error) {
	cache := map[uint64]*Broadcast{}
	return func(bid uint64, ref string) (string, error) {
		b := cache[bid]
		if b == nil {
			b = &Broadcast{}
			if err := getJSON(tx.Bucket(bucketBroadcasts), itob(bid), b); err != nil {
				return "", fmt.Errorf("text of broadcast %d: %w", bid, err)
			}
			cache[bid] = b
		}
		if ref == "en" {
			return b.TextEN, nil
		}
		return b.TextAR, nil
	}
}

// textRef is the reference to store for e's text, if it is its broadcast's.
func textRef(e *OutboxEntry, b *Broadcast) string {
	switch {
	case b == nil || e.Text == "":
		return ""
	case e.Text == b.TextAR:
		return "ar"
	case e.Text == b.TextEN:
		return "en"
	default:
		return ""
	}
}

// encodeEntry encodes e for storage, referring to b's text where it can.
func encodeEntry(e *OutboxEntry, b *Broadcast) ([]byte, error) {
	rec := outboxRecord{OutboxEntry: e, TextRef: textRef(e, b)}
	if rec.TextRef == "" {
		return json.Marshal(&rec)
	}
	text := e.Text
	e.Text = ""
	buf, err := json.Marshal(&rec)
	e.Text = text
	return buf, err
}

// lane is the entry's outbox lane.
func (e *OutboxEntry) lane() byte {
	switch {
	case e.Parked:
		return laneParked
	case e.Bulk:
		return laneBulk
	}
	return laneNotice
}

// outboxKey is (channel ‖ 0 ‖ lane ‖ id).
func outboxKey(channel bot.ChannelName, lane byte, id uint64) []byte {
	k := make([]byte, 0, len(channel)+10)
	k = append(k, channel...)
	k = append(k, 0, lane)
	return append(k, itob(id)...)
}

// outboxPrefix is the key prefix of one channel's lane.
func outboxPrefix(channel bot.ChannelName, lane byte) []byte {
	return append(append([]byte(channel), 0), lane)
}

// idsValue is outbox_ids' value: (broadcast id ‖ outbox key).
func idsValue(broadcastID uint64, key []byte) []byte {
	v := make([]byte, 0, 8+len(key))
	return append(append(v, itob(broadcastID)...), key...)
}

// byBroadcastKey is (broadcast id ‖ entry id).
func byBroadcastKey(broadcastID, id uint64) []byte {
	k := make([]byte, 16)
	copy(k, itob(broadcastID))
	copy(k[8:], itob(id))
	return k
}

// prepareEntry checks an entry before it is queued and fills Channel from To.
func prepareEntry(e *OutboxEntry) error {
	if err := checkAddress(e.To); err != nil {
		return fmt.Errorf("outbox entry: %w", err)
	}
	if e.Channel == "" {
		e.Channel = e.To.Channel
	}
	if e.Channel != e.To.Channel {
		return fmt.Errorf("outbox entry to %s: channel %q does not match", e.To, e.Channel)
	}
	if strings.IndexByte(string(e.Channel), 0) >= 0 {
		return fmt.Errorf("outbox entry to %q: bad channel name", e.To)
	}
	return nil
}

// outboxWriter writes entries inside one transaction, taking IDs from the
// outbox sequence.
type outboxWriter struct {
	outbox, ids, byBroadcast *bbolt.Bucket
	seq                      uint64
}

func newOutboxWriter(tx *bbolt.Tx) *outboxWriter {
	w := &outboxWriter{
		outbox:      tx.Bucket(bucketOutbox),
		ids:         tx.Bucket(bucketOutboxIDs),
		byBroadcast: tx.Bucket(bucketOutboxByBroadcast),
	}
	w.outbox.FillPercent, w.ids.FillPercent, w.byBroadcast.FillPercent = fillPercent, fillPercent, fillPercent
	w.seq = w.outbox.Sequence()
	return w
}

// put assigns e the next ID and writes it. Entries of a broadcast b are
// indexed under it and count towards it; nil b for others.
func (w *outboxWriter) put(e *OutboxEntry, b *Broadcast) error {
	w.seq++
	e.ID = w.seq
	buf, err := encodeEntry(e, b)
	if err != nil {
		return fmt.Errorf("encoding outbox entry to %s: %w", e.To, err)
	}
	key := outboxKey(e.Channel, e.lane(), e.ID)
	if err := w.outbox.Put(key, buf); err != nil {
		return err
	}
	var bid uint64
	if b != nil {
		bid = b.ID
		if err := w.byBroadcast.Put(byBroadcastKey(bid, e.ID), nil); err != nil {
			return err
		}
	}
	return w.ids.Put(itob(e.ID), idsValue(bid, key))
}

// done records the sequence the writes used.
func (w *outboxWriter) done() error { return w.outbox.SetSequence(w.seq) }

// writeEntries queues entries inside tx, as Enqueue does, forcing the bulk
// lane if bulk is set, and sets their IDs.
func writeEntries(tx *bbolt.Tx, entries []OutboxEntry, bulk bool) error {
	w := newOutboxWriter(tx)
	for i := range entries {
		e := &entries[i]
		if bulk {
			e.Bulk = true
		}
		if err := prepareEntry(e); err != nil {
			return err
		}
		if err := w.put(e, nil); err != nil {
			return err
		}
	}
	return w.done()
}

// Enqueue queues messages for the dispatchers, in one transaction, setting
// each entry's ID (the slice's elements are updated). Entries keep their
// Bulk flag; a BroadcastID is kept for reference but the entry does not
// count towards the broadcast (a coordinator's test send, for one).
func (s *Store) Enqueue(ctx context.Context, entries ...OutboxEntry) error {
	if len(entries) == 0 {
		return nil
	}
	if err := s.write(ctx, func(tx *bbolt.Tx) error { return writeEntries(tx, entries, false) }); err != nil {
		return fmt.Errorf("queueing %d messages: %w", len(entries), err)
	}
	return nil
}

// PendingOutbox returns up to limit entries of the channel's notice lane
// (bulk false) or bulk lane, with IDs above after, in ID order. Entries
// held back by NotBefore or marked Started are included: holding them is
// the dispatcher's decision.
func (s *Store) PendingOutbox(ctx context.Context, channel bot.ChannelName, bulk bool, after uint64, limit int) ([]OutboxEntry, error) {
	lane := laneNotice
	if bulk {
		lane = laneBulk
	}
	if after == ^uint64(0) || limit <= 0 {
		return nil, nil
	}
	prefix := outboxPrefix(channel, lane)
	var out []OutboxEntry
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		resolve := broadcastTexts(tx)
		c := tx.Bucket(bucketOutbox).Cursor()
		k, v := c.Seek(outboxKey(channel, lane, after+1))
		for ; k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, v = c.Next() {
			var e OutboxEntry
			if err := decodeEntry(v, &e, resolve); err != nil {
				return fmt.Errorf("decoding outbox entry %x: %w", k, err)
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s outbox: %w", channel, err)
	}
	return out, nil
}

// outcome is what happened to a sent entry, for its broadcast's counters.
type outcome int

const (
	outcomeSent outcome = iota
	outcomeFailed
	outcomeBlocked
	outcomeCancelled
)

// removeEntry deletes the entry with its index entries and counts it
// towards its broadcast. found is false (and nothing changes) when there is
// no such entry: it was sent, failed or cancelled already.
func (s *Store) removeEntry(tx *bbolt.Tx, id uint64, how outcome, reason string) (found bool, err error) {
	ids := tx.Bucket(bucketOutboxIDs)
	v := ids.Get(itob(id))
	if len(v) < 8 {
		return false, nil
	}
	bid, key := btoi(v[:8]), bytes.Clone(v[8:])
	if err := tx.Bucket(bucketOutbox).Delete(key); err != nil {
		return false, err
	}
	if err := ids.Delete(itob(id)); err != nil {
		return false, err
	}
	if how == outcomeSent && len(key) >= 10 && key[len(key)-9] == laneBulk {
		if err := s.countSent(tx, key[:len(key)-10]); err != nil {
			return false, err
		}
	}
	if bid == 0 {
		return true, nil
	}
	if err := tx.Bucket(bucketOutboxByBroadcast).Delete(byBroadcastKey(bid, id)); err != nil {
		return false, err
	}
	return true, s.countOutcome(tx, bid, how, reason)
}

// countOutcome adds one sent, failed or blocked message to the broadcast,
// moving it to sending and, when every queued message is accounted for, to
// done.
func (s *Store) countOutcome(tx *bbolt.Tx, bid uint64, how outcome, reason string) error {
	b := tx.Bucket(bucketBroadcasts)
	bc := &Broadcast{}
	switch err := getJSON(b, itob(bid), bc); {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	switch how {
	case outcomeSent:
		bc.Sent++
	case outcomeFailed:
		bc.Failed++
		bc.LastError = reason
	case outcomeBlocked:
		bc.Blocked++
	case outcomeCancelled:
		bc.Cancelled++
	}
	if bc.Status == BroadcastQueued && how != outcomeCancelled {
		bc.Status = BroadcastSending
	}
	bc.FinishIfComplete(s.stamp())
	return putJSON(b, itob(bid), bc)
}

// countSent adds one to the channel's bulk sends of the current minute and
// prunes counts older than sentKept.
func (s *Store) countSent(tx *bbolt.Tx, channel []byte) error {
	b := tx.Bucket(bucketOutboxSent)
	now := s.stamp()
	prefix := append(bytes.Clone(channel), 0)
	key := append(bytes.Clone(prefix), itob(uint64(now.Truncate(time.Minute).Unix()))...)
	if err := b.Put(key, itob(btoi(b.Get(key))+1)); err != nil {
		return err
	}
	cutoff := uint64(now.Add(-sentKept).Unix())
	var old [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(old) < pruneBatch; k, _ = c.Next() {
		if btoi(k[len(prefix):]) >= cutoff {
			break
		}
		old = append(old, bytes.Clone(k))
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// OutboxDone removes entries that were sent and counts them as sent for
// their broadcasts, in one transaction. IDs that are gone already (a
// cancelled broadcast's, or recorded before) are skipped, so calling it
// again changes nothing. Concurrent calls share commits.
func (s *Store) OutboxDone(ctx context.Context, ids ...uint64) error {
	if len(ids) == 0 {
		return nil
	}
	// idempotent: a re-run finds the entries gone and counts nothing twice
	err := s.writeBatch(ctx, func(tx *bbolt.Tx) error {
		for _, id := range ids {
			if _, err := s.removeEntry(tx, id, outcomeSent, ""); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recording %d sent messages: %w", len(ids), err)
	}
	return nil
}

// OutboxFailed removes an entry that will not be sent and counts it for its
// broadcast as blocked (the person blocked the bot) or failed, keeping
// reason as the broadcast's LastError. An unknown ID is skipped.
func (s *Store) OutboxFailed(ctx context.Context, id uint64, reason string, blocked bool) error {
	how := outcomeFailed
	if blocked {
		how = outcomeBlocked
	}
	// idempotent, as OutboxDone
	err := s.writeBatch(ctx, func(tx *bbolt.Tx) error {
		_, err := s.removeEntry(tx, id, how, reason)
		return err
	})
	if err != nil {
		return fmt.Errorf("recording outbox entry %d as failed: %w", id, err)
	}
	return nil
}

// updateEntry applies fn to the entry with the given ID, if there is one.
func updateEntry(tx *bbolt.Tx, id uint64, fn func(*OutboxEntry)) error {
	v := tx.Bucket(bucketOutboxIDs).Get(itob(id))
	if len(v) < 8 {
		return nil
	}
	key := bytes.Clone(v[8:])
	b := tx.Bucket(bucketOutbox)
	buf := b.Get(key)
	if buf == nil {
		return fmt.Errorf("outbox entry %d: %w", id, ErrNotFound)
	}
	// keep the stored form, text reference included
	rec := outboxRecord{OutboxEntry: &OutboxEntry{}}
	if err := json.Unmarshal(buf, &rec); err != nil {
		return fmt.Errorf("decoding outbox entry %d: %w", id, err)
	}
	fn(rec.OutboxEntry)
	return putJSON(b, key, &rec)
}

// OutboxRetry records a failed attempt: Attempts grows by one, LastError is
// reason, Started is cleared (the send returned, so it is known not to be
// in flight) and the entry waits until notBefore. An unknown ID is skipped.
func (s *Store) OutboxRetry(ctx context.Context, id uint64, notBefore time.Time, reason string) error {
	// not Batch: Attempts++ must not run twice
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		return updateEntry(tx, id, func(e *OutboxEntry) {
			e.Attempts++
			e.LastError = reason
			e.NotBefore = notBefore.UTC()
			e.Started = time.Time{}
		})
	})
	if err != nil {
		return fmt.Errorf("recording a failed attempt of outbox entry %d: %w", id, err)
	}
	return nil
}

// OutboxStarted marks entries as being sent, now; see OutboxEntry.Started.
// Unknown IDs are skipped.
func (s *Store) OutboxStarted(ctx context.Context, ids ...uint64) error {
	return s.setStarted(ctx, ids, s.stamp())
}

// OutboxNotStarted clears Started on entries that were marked but not sent
// after all (the dispatcher stopped first). Unknown IDs are skipped.
func (s *Store) OutboxNotStarted(ctx context.Context, ids ...uint64) error {
	return s.setStarted(ctx, ids, time.Time{})
}

func (s *Store) setStarted(ctx context.Context, ids []uint64, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	// idempotent: it sets a field to a fixed value
	err := s.writeBatch(ctx, func(tx *bbolt.Tx) error {
		for _, id := range ids {
			if err := updateEntry(tx, id, func(e *OutboxEntry) { e.Started = at }); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("marking %d outbox entries started: %w", len(ids), err)
	}
	return nil
}

// OutboxForget deletes, in one transaction, the queued messages to a
// person who asked to be forgotten: those with their contact ID or to one of
// addrs. Each counts as cancelled for its broadcast. It returns how many it
// deleted. It reads the whole outbox, which is fine for a rare request.
func (s *Store) OutboxForget(ctx context.Context, contactID uint64, addrs []bot.Address) (removed int, err error) {
	err = s.write(ctx, func(tx *bbolt.Tx) error {
		var err error
		removed, err = s.forgetOutbox(tx, contactID, addrs)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("forgetting the queued messages of contact %d: %w", contactID, err)
	}
	return removed, nil
}

// OutboxWithdrawBulk deletes the broadcasts and reminders still queued for a
// person who said /stop, so nothing bulk reaches them afterwards; messages
// they asked for (notices) stay. Each counts as cancelled for its broadcast.
func (s *Store) OutboxWithdrawBulk(ctx context.Context, contactID uint64, addrs []bot.Address) (removed int, err error) {
	err = s.write(ctx, func(tx *bbolt.Tx) error {
		var err error
		removed, err = s.removeQueued(tx, contactID, addrs, true)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("withdrawing the queued broadcasts of contact %d: %w", contactID, err)
	}
	return removed, nil
}

// forgetOutbox is OutboxForget inside tx, so ForgetContact can do both in
// one transaction.
func (s *Store) forgetOutbox(tx *bbolt.Tx, contactID uint64, addrs []bot.Address) (int, error) {
	return s.removeQueued(tx, contactID, addrs, false)
}

// removeQueued deletes the entries for a contact or its addresses; bulkOnly
// keeps the notices.
func (s *Store) removeQueued(tx *bbolt.Tx, contactID uint64, addrs []bot.Address, bulkOnly bool) (int, error) {
	var ids []uint64
	err := tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
		var e struct {
			ID        uint64      `json:"id"`
			To        bot.Address `json:"to"`
			ContactID uint64      `json:"contact_id"`
			Bulk      bool        `json:"bulk"`
		}
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("decoding outbox entry %x: %w", k, err)
		}
		if bulkOnly && !e.Bulk {
			return nil
		}
		if contactID != 0 && e.ContactID == contactID || slices.Contains(addrs, e.To) {
			ids = append(ids, e.ID)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if _, err := s.removeEntry(tx, id, outcomeCancelled, ""); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// OutboxQueued reports whether the entry is still in the outbox: a
// dispatcher asks just before sending, so a cancelled broadcast's messages
// read ahead are not sent.
func (s *Store) OutboxQueued(ctx context.Context, id uint64) (bool, error) {
	var found bool
	if err := s.read(ctx, func(tx *bbolt.Tx) error {
		found = tx.Bucket(bucketOutboxIDs).Get(itob(id)) != nil
		return nil
	}); err != nil {
		return false, fmt.Errorf("looking up outbox entry %d: %w", id, err)
	}
	return found, nil
}

// OutboxDepth returns how many entries wait per channel.
func (s *Store) OutboxDepth(ctx context.Context) (map[bot.ChannelName]int, error) {
	depth := map[bot.ChannelName]int{}
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if i := bytes.IndexByte(k, 0); i >= 0 {
				depth[bot.ChannelName(k[:i])]++
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("counting the outbox: %w", err)
	}
	return depth, nil
}

// OutboxSentSince returns how many bulk messages the channel sent since the
// given time, to the minute, as recorded by OutboxDone with the store's
// clock; counts are kept for 48 hours.
func (s *Store) OutboxSentSince(ctx context.Context, channel bot.ChannelName, since time.Time) (int, error) {
	prefix := append([]byte(channel), 0)
	// a time before 1970 (the zero time: "ever") is from the first minute kept
	from := append(bytes.Clone(prefix), itob(uint64(max(since.Truncate(time.Minute).Unix(), 0)))...)
	n := 0
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketOutboxSent).Cursor()
		for k, v := c.Seek(from); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			n += int(btoi(v))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("counting %s messages sent: %w", channel, err)
	}
	return n, nil
}

// checkOutbox checks, inside tx, that the outbox and its indexes agree both
// ways and that each entry sits under its own channel, lane and ID.
func checkOutbox(tx *bbolt.Tx, report reportFunc) {
	outbox, ids, byBroadcast := tx.Bucket(bucketOutbox), tx.Bucket(bucketOutboxIDs), tx.Bucket(bucketOutboxByBroadcast)
	resolve := broadcastTexts(tx)
	_ = outbox.ForEach(func(k, v []byte) error {
		var e OutboxEntry
		if err := decodeEntry(v, &e, resolve); err != nil {
			report("outbox %x: %w", k, err)
			return nil
		}
		if !bytes.Equal(k, outboxKey(e.Channel, e.lane(), e.ID)) {
			report("outbox entry %d of %s is under key %x", e.ID, e.Channel, k)
		}
		iv := ids.Get(itob(e.ID))
		if len(iv) < 8 || !bytes.Equal(iv[8:], k) {
			report("outbox entry %d is not indexed by ID", e.ID)
			return nil
		}
		if bid := btoi(iv[:8]); bid != 0 && (bid != e.BroadcastID || byBroadcast.Get(byBroadcastKey(bid, e.ID)) == nil) {
			report("outbox entry %d of broadcast %d is not indexed under it", e.ID, bid)
		}
		return nil
	})
	_ = ids.ForEach(func(k, v []byte) error {
		if len(v) < 8 || outbox.Get(v[8:]) == nil {
			report("outbox ID %d is indexed to a missing entry", btoi(k))
		}
		return nil
	})
	_ = byBroadcast.ForEach(func(k, _ []byte) error {
		if len(k) != 16 {
			report("outbox_by_broadcast key %x is not 16 bytes", k)
			return nil
		}
		if iv := ids.Get(k[8:]); len(iv) < 8 || !bytes.Equal(iv[:8], k[:8]) {
			report("broadcast %d lists missing outbox entry %d", btoi(k[:8]), btoi(k[8:]))
		}
		return nil
	})
}

// ReplaceQueued changes the text and buttons of an entry still waiting in
// the outbox and reports whether it was there: a progress report not yet
// sent is brought up to date instead of followed by another.
func (s *Store) ReplaceQueued(ctx context.Context, id uint64, text string, buttons [][]bot.Button) (bool, error) {
	found := false
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketOutboxIDs).Get(itob(id)) == nil {
			return nil
		}
		found = true
		return updateEntry(tx, id, func(e *OutboxEntry) {
			if e.Started.IsZero() {
				e.Text, e.Buttons = text, buttons
			} else {
				found = false
			}
		})
	})
	if err != nil {
		return false, fmt.Errorf("replacing outbox entry %d: %w", id, err)
	}
	return found, nil
}
