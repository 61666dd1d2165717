package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"mobilise/bot"
	"mobilise/store"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Outbox lanes, as in the bbolt store: a channel's dispatcher drains
// notices before bulk messages; parked entries belong to a suspended
// broadcast and no dispatcher reads them.
const (
	laneNotice = 0
	laneBulk   = 1
	laneParked = 2
)

// queueChunk is how many outbox entries one QueueBroadcast transaction
// writes, as in the bbolt store.
const queueChunk = 10_000

// notifyChannel is the channel of the notifications the outbox trigger sends.
const notifyChannel = "mobilise_outbox"

// lane is the entry's outbox lane.
func lane(e *store.OutboxEntry) int16 {
	switch {
	case e.Parked:
		return laneParked
	case e.Bulk:
		return laneBulk
	}
	return laneNotice
}

// prepareEntry checks an entry before it is queued and fills Channel from
// To, as the bbolt store does.
func prepareEntry(e *store.OutboxEntry) error {
	if !e.To.Valid() {
		return fmt.Errorf("outbox entry: address %q: want channel:id", e.To)
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

// textRef is the reference to store for e's text, if it is its broadcast's.
func textRef(e *store.OutboxEntry, b *store.Broadcast) string {
	switch {
	case b == nil || e.Text == "":
		return ""
	case e.Text == b.TextAR:
		return "ar"
	case e.Text == b.TextEN:
		return "en"
	}
	return ""
}

// entryRow is an entry as the outbox table's columns hold it: the fields a
// dispatcher changes have columns of their own, the rest is JSON, without
// the text when it refers to the broadcast's.
func entryRow(e *store.OutboxEntry, b *store.Broadcast, counts bool) ([]any, error) {
	ref := textRef(e, b)
	rec := *e
	rec.Attempts, rec.NotBefore, rec.Started, rec.LastError = 0, time.Time{}, time.Time{}, ""
	if ref != "" {
		rec.Text = ""
	}
	buf, err := json.Marshal(&rec)
	if err != nil {
		return nil, fmt.Errorf("encoding outbox entry to %s: %w", e.To, err)
	}
	return []any{int64(e.ID), string(e.Channel), lane(e), int64(e.BroadcastID), counts, int64(e.ContactID), ref, buf,
		e.Attempts, nullTime(e.NotBefore), nullTime(e.Started), e.LastError}, nil
}

// outboxColumns are the columns entryRow fills, in its order.
var outboxColumns = []string{"id", "channel", "lane", "broadcast_id", "counts", "contact_id", "text_ref", "entry",
	"attempts", "not_before", "started", "last_error"}

// nullTime is t, or NULL for the zero time.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// entrySelect reads entries, the broadcast's text filled in where the
// entry refers to it; readEntries scans its rows.
const entrySelect = `SELECT o.id, o.entry, o.attempts, o.not_before, o.started, o.last_error,
	CASE o.text_ref WHEN 'ar' THEN b.record->>'text_ar' WHEN 'en' THEN b.record->>'text_en' END
	FROM %s o LEFT JOIN broadcasts b ON o.text_ref <> '' AND b.id = o.broadcast_id`

// readEntries scans rows of entrySelect.
func readEntries(rows pgx.Rows) ([]store.OutboxEntry, error) {
	var out []store.OutboxEntry
	for rows.Next() {
		var (
			id               int64
			buf              []byte
			e                store.OutboxEntry
			notBefore, start *time.Time
			lastError        string
			text             *string
		)
		if err := rows.Scan(&id, &buf, &e.Attempts, &notBefore, &start, &lastError, &text); err != nil {
			rows.Close()
			return nil, err
		}
		if err := json.Unmarshal(buf, &e); err != nil {
			rows.Close()
			return nil, fmt.Errorf("decoding outbox entry %d: %w", id, err)
		}
		e.ID, e.LastError = uint64(id), lastError
		if notBefore != nil {
			e.NotBefore = notBefore.UTC()
		}
		if start != nil {
			e.Started = start.UTC()
		}
		if text != nil {
			e.Text = *text
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// reserveIDs takes n outbox IDs from the sequence, in ascending order.
func reserveIDs(ctx context.Context, tx pgx.Tx, n int) ([]int64, error) {
	rows, err := tx.Query(ctx, `SELECT nextval('outbox_id_seq') FROM generate_series(1, $1)`, n)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("reserving outbox IDs: %w", err)
	}
	slices.Sort(ids)
	return ids, nil
}

// writeEntries gives entries the next IDs and copies them into the
// outbox; entries of broadcast b (nil for none) refer to its text and,
// with counts, count towards it.
func writeEntries(ctx context.Context, tx pgx.Tx, entries []store.OutboxEntry, b *store.Broadcast, counts bool) error {
	if len(entries) == 0 {
		return nil
	}
	ids, err := reserveIDs(ctx, tx, len(entries))
	if err != nil {
		return err
	}
	rows := make([][]any, len(entries))
	for i := range entries {
		entries[i].ID = uint64(ids[i])
		if rows[i], err = entryRow(&entries[i], b, counts); err != nil {
			return err
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"outbox"}, outboxColumns, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("copying %d entries into the outbox: %w", len(entries), err)
	}
	return nil
}

// Enqueue queues messages for the dispatchers, in one transaction, setting
// each entry's ID (the slice's elements are updated), as
// store.Store.Enqueue does. Entries keep their Bulk flag; a BroadcastID is
// kept for reference but the entry does not count towards the broadcast.
// Listeners are woken when the transaction commits.
func (s *Store) Enqueue(ctx context.Context, entries ...store.OutboxEntry) error {
	if len(entries) == 0 {
		return nil
	}
	for i := range entries {
		if err := prepareEntry(&entries[i]); err != nil {
			return fmt.Errorf("queueing %d messages: %w", len(entries), err)
		}
	}
	if err := s.write(ctx, func(tx pgx.Tx) error { return writeEntries(ctx, tx, entries, nil, false) }); err != nil {
		return fmt.Errorf("queueing %d messages: %w", len(entries), err)
	}
	return nil
}

// CreateBroadcast stores a new broadcast, setting b.ID; an empty Status
// becomes awaiting_approval and a zero CreatedAt now.
func (s *Store) CreateBroadcast(ctx context.Context, b *store.Broadcast) error {
	rec := *b
	if rec.Status == "" {
		rec.Status = store.BroadcastAwaitingApproval
	}
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = s.stamp()
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO broadcasts (record) VALUES ('{}') RETURNING id`).Scan(&rec.ID); err != nil {
			return err
		}
		return putBroadcast(ctx, tx, &rec)
	})
	if err != nil {
		return fmt.Errorf("creating broadcast: %w", err)
	}
	*b = rec
	return nil
}

// putBroadcast writes b's record.
func putBroadcast(ctx context.Context, tx pgx.Tx, b *store.Broadcast) error {
	buf, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("encoding broadcast %d: %w", b.ID, err)
	}
	_, err = tx.Exec(ctx, `UPDATE broadcasts SET record = $2 WHERE id = $1`, b.ID, buf)
	return err
}

// readBroadcast reads a broadcast, locking its row if lock is set, or
// ErrNotFound.
func readBroadcast(ctx context.Context, q querier, id uint64, lock bool) (*store.Broadcast, error) {
	sql := `SELECT record FROM broadcasts WHERE id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	var buf []byte
	if err := q.QueryRow(ctx, sql, id).Scan(&buf); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, store.ErrNotFound
		}
		return nil, err
	}
	b := &store.Broadcast{}
	if err := json.Unmarshal(buf, b); err != nil {
		return nil, fmt.Errorf("decoding broadcast %d: %w", id, err)
	}
	b.ID = id
	return b, nil
}

// Broadcast returns the broadcast with the given ID, or ErrNotFound.
func (s *Store) Broadcast(ctx context.Context, id uint64) (*store.Broadcast, error) {
	b, err := readBroadcast(ctx, s.q(ctx), id, false)
	if err != nil {
		return nil, fmt.Errorf("broadcast %d: %w", id, err)
	}
	return b, nil
}

// QueueBroadcast writes one outbox entry per recipient for the broadcast,
// as store.Store.QueueBroadcast does: in transactions of 10,000 entries,
// each copied into the outbox (COPY) and raising Total and QueuedThrough;
// the first moves the broadcast to queued, the last sets AllQueued.
// Entries are sorted by ContactID in place and given their IDs; each must
// have a ContactID, one per person. Every entry gets the broadcast's ID and
// Urgent flag, Bulk, and Kind "broadcast" if it has none; entries whose
// Text is the broadcast's TextAR or TextEN refer to it.
//
// Called again after a stop, it skips contacts up to QueuedThrough, so
// nobody is queued twice. store.ErrBroadcastClosed for a done or
// cancelled broadcast; nothing is written for one with AllQueued set. The
// broadcast's row lock orders concurrent calls. Each transaction wakes the
// channels' listeners when it commits.
func (s *Store) QueueBroadcast(ctx context.Context, id uint64, entries []store.OutboxEntry) error {
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
	next := 0
	for {
		end := min(next+queueChunk, len(entries))
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

// writeBroadcastChunk writes, in one transaction, the entries of a chunk
// of the broadcast's recipients covering contacts up to through; last
// says it is the final chunk. done is set when the broadcast was all
// queued already; written counts the entries it wrote.
func (s *Store) writeBroadcastChunk(ctx context.Context, id uint64, entries []store.OutboxEntry, through uint64, last bool) (written int, done bool, err error) {
	err = s.write(ctx, func(tx pgx.Tx) error {
		written, done = 0, false
		b, err := readBroadcast(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if b.Closed() {
			return store.ErrBroadcastClosed
		}
		if b.AllQueued {
			done = true
			return nil
		}
		first := 0
		for first < len(entries) && entries[first].ContactID <= b.QueuedThrough {
			first++
		}
		chunk := entries[first:]
		for i := range chunk {
			e := &chunk[i]
			e.BroadcastID, e.Bulk, e.Urgent = id, true, b.Urgent
			e.Parked = b.Status == store.BroadcastSuspended
			if e.Kind == "" {
				e.Kind = store.KindBroadcast
			}
		}
		if err := writeEntries(ctx, tx, chunk, b, true); err != nil {
			return err
		}
		written = len(chunk)
		b.Total += len(chunk)
		b.QueuedThrough = max(b.QueuedThrough, through)
		switch b.Status {
		case store.BroadcastAwaitingApproval, "":
			b.Status = store.BroadcastQueued
		case store.BroadcastSuspended:
			if b.SuspendedFrom == store.BroadcastAwaitingApproval {
				b.SuspendedFrom = store.BroadcastQueued
			}
		}
		if b.QueuedAt.IsZero() {
			b.QueuedAt = s.stamp()
		}
		b.AllQueued = last
		b.FinishIfComplete(s.stamp())
		return putBroadcast(ctx, tx, b)
	})
	return written, done, err
}

// PendingOutbox returns up to limit entries of the channel's notice lane
// (bulk false) or bulk lane, with IDs above after, in ID order, as
// store.Store.PendingOutbox does: entries held back by NotBefore, marked
// Started or claimed are included.
func (s *Store) PendingOutbox(ctx context.Context, channel bot.ChannelName, bulk bool, after uint64, limit int) ([]store.OutboxEntry, error) {
	if after >= 1<<63-1 || limit <= 0 {
		return nil, nil
	}
	l := int16(laneNotice)
	if bulk {
		l = laneBulk
	}
	rows, err := s.q(ctx).Query(ctx, fmt.Sprintf(entrySelect, "outbox")+`
		WHERE o.channel = $1 AND o.lane = $2 AND o.id > $3 ORDER BY o.id LIMIT $4`, string(channel), l, int64(after), limit)
	if err != nil {
		return nil, fmt.Errorf("reading %s outbox: %w", channel, err)
	}
	out, err := readEntries(rows)
	if err != nil {
		return nil, fmt.Errorf("reading %s outbox: %w", channel, err)
	}
	return out, nil
}

// ClaimOutbox takes up to limit entries of the channel's notice lane (bulk
// false) or bulk lane for one dispatcher, in ID order, for lease: entries
// that are due (NotBefore passed) and not claimed by anyone, or whose
// claim's lease ran out. It locks them with FOR UPDATE SKIP LOCKED, so
// dispatchers of several instances claiming at once each get other entries
// and none waits, and sets their lease in the same statement.
//
// This is the outbox's crash semantics: an entry stays in the outbox until
// OutboxDone or OutboxFailed removes it; a dispatcher that dies holding a
// claim delays its entries by the lease, after which the next claim takes
// them again. An entry marked Started is claimed like any other: whether
// to send it again is the dispatcher's decision, as with PendingOutbox.
// OutboxRetry ends a claim.
//
// Leases are read by the claiming store's clock (WithNow): instances
// sharing a database need clocks that agree to well within a lease.
func (s *Store) ClaimOutbox(ctx context.Context, channel bot.ChannelName, bulk bool, limit int, lease time.Duration) ([]store.OutboxEntry, error) {
	if limit <= 0 {
		return nil, nil
	}
	if lease <= 0 {
		return nil, fmt.Errorf("claiming %s outbox entries: lease %s is not positive", channel, lease)
	}
	l := int16(laneNotice)
	if bulk {
		l = laneBulk
	}
	now := s.stamp()
	var out []store.OutboxEntry
	err := s.write(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `WITH due AS (
				SELECT id FROM outbox WHERE channel = $1 AND lane = $2
					AND (not_before IS NULL OR not_before <= $3) AND (lease_until IS NULL OR lease_until <= $3)
				ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED),
			claimed AS (UPDATE outbox SET lease_until = $5 FROM due WHERE outbox.id = due.id RETURNING outbox.*)
			`+fmt.Sprintf(entrySelect, "claimed")+` ORDER BY o.id`, string(channel), l, now, limit, now.Add(lease))
		if err != nil {
			return err
		}
		out, err = readEntries(rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claiming %s outbox entries: %w", channel, err)
	}
	return out, nil
}

// ClaimOutboxEntry claims one entry for a dispatcher about to send it,
// for lease, so that no other dispatcher sharing the database sends it
// meanwhile: one that lost its lease to another instance but is still
// running, say. The claim is taken when the entry is due (NotBefore
// passed) and not claimed, or its claim ran out, or held is the lease_until
// of the caller's own claim, which is then renewed. It returns the new
// lease_until, the caller's token for renewing or releasing the claim,
// and ok; or, when someone else holds the entry or it is not yet due, ok
// false and the time until which it is not the caller's (zero if unknown);
// store.ErrNotFound when the entry is no longer in the outbox.
//
// OutboxDone and OutboxFailed end a claim by removing the entry,
// OutboxRetry by rescheduling it, ReleaseOutboxEntry when it was not sent
// after all. A dispatcher that dies holding a claim delays its entry by
// the lease. Leases are read by the claiming store's clock, as in
// ClaimOutbox.
func (s *Store) ClaimOutboxEntry(ctx context.Context, id uint64, held time.Time, lease time.Duration) (until time.Time, ok bool, err error) {
	if lease <= 0 {
		return time.Time{}, false, fmt.Errorf("claiming outbox entry %d: lease %s is not positive", id, lease)
	}
	now := s.stamp()
	err = s.write(ctx, func(tx pgx.Tx) error {
		var got time.Time
		err := tx.QueryRow(ctx, `UPDATE outbox SET lease_until = $4 WHERE id = $1
			AND (not_before IS NULL OR not_before <= $2)
			AND (lease_until IS NULL OR lease_until <= $2 OR lease_until = $3)
			RETURNING lease_until`, int64(id), now, nullTime(held), now.Add(lease)).Scan(&got)
		switch {
		case err == nil:
			until, ok = got.UTC(), true
			return nil
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		var busy *time.Time
		if err := tx.QueryRow(ctx, `SELECT greatest(lease_until, not_before) FROM outbox WHERE id = $1`, int64(id)).Scan(&busy); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return store.ErrNotFound
			}
			return err
		}
		if busy != nil {
			until = busy.UTC()
		}
		return nil
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("claiming outbox entry %d: %w", id, err)
	}
	return until, ok, nil
}

// ReleaseOutboxEntry ends the caller's claim on an entry it did not send
// after all (its dispatcher is stopping, or the channel went down), so
// another dispatcher may take it at once rather than after the lease.
// held is the claim's lease_until, as ClaimOutboxEntry returned it: a
// claim someone else took meanwhile is left alone. An unknown ID is
// skipped.
func (s *Store) ReleaseOutboxEntry(ctx context.Context, id uint64, held time.Time) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE outbox SET lease_until = NULL WHERE id = $1 AND lease_until = $2`, int64(id), nullTime(held))
		return err
	})
	if err != nil {
		return fmt.Errorf("releasing outbox entry %d: %w", id, err)
	}
	return nil
}

// outcome is what happened to a sent entry, for its broadcast's counters.
type outcome int

const (
	outcomeSent outcome = iota
	outcomeFailed
	outcomeBlocked
	outcomeCancelled
)

// removeEntries deletes the entries with the given IDs and counts them
// towards their broadcasts, locking each broadcast's row in ID order. IDs
// that are gone already are skipped.
func (s *Store) removeEntries(ctx context.Context, tx pgx.Tx, ids []uint64, how outcome, reason string) error {
	keys := make([]int64, len(ids))
	for i, id := range ids {
		keys[i] = int64(id)
	}
	rows, err := tx.Query(ctx, `DELETE FROM outbox WHERE id = ANY($1) RETURNING broadcast_id, counts, lane, channel`, keys)
	if err != nil {
		return err
	}
	per := map[int64]int{}
	sent := map[string]int{}
	var (
		bid     int64
		counts  bool
		l       int16
		channel string
	)
	if _, err := pgx.ForEachRow(rows, []any{&bid, &counts, &l, &channel}, func() error {
		if counts {
			per[bid]++
		}
		if how == outcomeSent && l == laneBulk {
			sent[channel]++
		}
		return nil
	}); err != nil {
		return err
	}
	if err := s.countSent(ctx, tx, sent); err != nil {
		return err
	}
	order := make([]int64, 0, len(per))
	for bid := range per {
		order = append(order, bid)
	}
	slices.Sort(order)
	now := s.stamp()
	for _, bid := range order {
		b, err := readBroadcast(ctx, tx, uint64(bid), true)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		n := per[bid]
		switch how {
		case outcomeSent:
			b.Sent += n
		case outcomeFailed:
			b.Failed += n
			b.LastError = reason
		case outcomeBlocked:
			b.Blocked += n
		case outcomeCancelled:
			b.Cancelled += n
		}
		if b.Status == store.BroadcastQueued && how != outcomeCancelled {
			b.Status = store.BroadcastSending
		}
		b.FinishIfComplete(now)
		if err := putBroadcast(ctx, tx, b); err != nil {
			return err
		}
	}
	return nil
}

// sentKept is how long outbox_sent keeps per-minute counts: long enough
// to count "today" in any time zone.
const sentKept = 48 * time.Hour

// countSent adds the bulk messages sent now to their channels' counts of
// the current minute and prunes counts older than sentKept, a channel at
// a time in name order.
func (s *Store) countSent(ctx context.Context, tx pgx.Tx, sent map[string]int) error {
	if len(sent) == 0 {
		return nil
	}
	now := s.stamp()
	minute := now.Truncate(time.Minute)
	channels := make([]string, 0, len(sent))
	for ch := range sent {
		channels = append(channels, ch)
	}
	slices.Sort(channels)
	for _, ch := range channels {
		if _, err := tx.Exec(ctx, `INSERT INTO outbox_sent (channel, minute, n) VALUES ($1, $2, $3)
			ON CONFLICT (channel, minute) DO UPDATE SET n = outbox_sent.n + excluded.n`, ch, minute, sent[ch]); err != nil {
			return fmt.Errorf("counting %s messages sent: %w", ch, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM outbox_sent WHERE channel = $1 AND minute < $2`, ch, now.Add(-sentKept)); err != nil {
			return fmt.Errorf("pruning %s messages sent: %w", ch, err)
		}
	}
	return nil
}

// OutboxSentSince returns how many bulk messages the channel sent since
// the given time, to the minute, as recorded by OutboxDone with the
// store's clock; counts are kept for 48 hours.
func (s *Store) OutboxSentSince(ctx context.Context, channel bot.ChannelName, since time.Time) (int, error) {
	var n int
	if err := s.q(ctx).QueryRow(ctx, `SELECT coalesce(sum(n), 0) FROM outbox_sent WHERE channel = $1 AND minute >= $2`,
		string(channel), since.Truncate(time.Minute)).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting %s messages sent: %w", channel, err)
	}
	return n, nil
}

// OutboxDone removes entries that were sent and counts them as sent for
// their broadcasts and, for bulk ones, in their channel's sends of the
// minute, in one transaction, as store.Store.OutboxDone does.
// IDs that are gone already are skipped, so calling it again changes
// nothing.
func (s *Store) OutboxDone(ctx context.Context, ids ...uint64) error {
	if len(ids) == 0 {
		return nil
	}
	record := func(ctx context.Context, ids []uint64) error {
		return s.write(ctx, func(tx pgx.Tx) error { return s.removeEntries(ctx, tx, ids, outcomeSent, "") })
	}
	var err error
	if s.joined(ctx) != nil {
		err = record(ctx, ids)
	} else {
		err = s.sent.do(ctx, ids, record)
	}
	if err != nil {
		return fmt.Errorf("recording %d sent messages: %w", len(ids), err)
	}
	return nil
}

// OutboxFailed removes an entry that will not be sent and counts it for
// its broadcast as blocked (the person blocked the bot) or failed, keeping
// reason as the broadcast's LastError. An unknown ID is skipped.
func (s *Store) OutboxFailed(ctx context.Context, id uint64, reason string, blocked bool) error {
	how := outcomeFailed
	if blocked {
		how = outcomeBlocked
	}
	if err := s.write(ctx, func(tx pgx.Tx) error { return s.removeEntries(ctx, tx, []uint64{id}, how, reason) }); err != nil {
		return fmt.Errorf("recording outbox entry %d as failed: %w", id, err)
	}
	return nil
}

// OutboxRetry records a failed attempt, as store.Store.OutboxRetry does:
// Attempts grows by one, LastError is reason, Started is cleared and the
// entry waits until notBefore. It ends the entry's claim. An unknown ID is
// skipped.
func (s *Store) OutboxRetry(ctx context.Context, id uint64, notBefore time.Time, reason string) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = $2, not_before = $3,
			started = NULL, lease_until = NULL WHERE id = $1`, int64(id), reason, nullTime(notBefore))
		return err
	})
	if err != nil {
		return fmt.Errorf("recording a failed attempt of outbox entry %d: %w", id, err)
	}
	return nil
}

// OutboxStarted marks entries as being sent, now; see
// store.OutboxEntry.Started. Unknown IDs are skipped.
func (s *Store) OutboxStarted(ctx context.Context, ids ...uint64) error {
	return s.setStarted(ctx, ids, nullTime(s.stamp()))
}

// OutboxNotStarted clears Started on entries that were marked but not
// sent after all. Unknown IDs are skipped.
func (s *Store) OutboxNotStarted(ctx context.Context, ids ...uint64) error {
	return s.setStarted(ctx, ids, nil)
}

func (s *Store) setStarted(ctx context.Context, ids []uint64, at *time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	keys := make([]int64, len(ids))
	for i, id := range ids {
		keys[i] = int64(id)
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE outbox SET started = $2 WHERE id = ANY($1)`, keys, at)
		return err
	})
	if err != nil {
		return fmt.Errorf("marking %d outbox entries started: %w", len(ids), err)
	}
	return nil
}

// OutboxQueued reports whether the entry is still in the outbox.
func (s *Store) OutboxQueued(ctx context.Context, id uint64) (bool, error) {
	var found bool
	if err := s.q(ctx).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM outbox WHERE id = $1)`, int64(id)).Scan(&found); err != nil {
		return false, fmt.Errorf("looking up outbox entry %d: %w", id, err)
	}
	return found, nil
}

// OutboxDepth returns how many entries wait per channel, parked ones included.
func (s *Store) OutboxDepth(ctx context.Context) (map[bot.ChannelName]int, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT channel, count(*) FROM outbox GROUP BY channel`)
	if err != nil {
		return nil, fmt.Errorf("counting the outbox: %w", err)
	}
	depth := map[bot.ChannelName]int{}
	var (
		ch string
		n  int
	)
	if _, err := pgx.ForEachRow(rows, []any{&ch, &n}, func() error {
		depth[bot.ChannelName(ch)] = n
		return nil
	}); err != nil {
		return nil, fmt.Errorf("counting the outbox: %w", err)
	}
	return depth, nil
}

// OutboxListener is a connection listening for entries being queued.
type OutboxListener struct {
	conn *pgxpool.Conn
}

// ListenOutbox starts listening, on a connection of its own, for entries
// queued on any channel; Wait returns when one is. Entries queued before
// ListenOutbox returns are not announced: a dispatcher listens first, then
// claims what is there, then waits. Close the listener when done.
func (s *Store) ListenOutbox(ctx context.Context) (*OutboxListener, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("listening to the outbox: %w", err)
	}
	if _, err := conn.Exec(ctx, `LISTEN `+notifyChannel); err != nil {
		conn.Release()
		return nil, fmt.Errorf("listening to the outbox: %w", err)
	}
	return &OutboxListener{conn: conn}, nil
}

// Wait blocks until entries are queued on a channel, a transaction that
// queued them having committed, and returns the channel's name; or until
// ctx is done. Several notifications that arrived meanwhile are returned
// one per call.
func (l *OutboxListener) Wait(ctx context.Context) (bot.ChannelName, error) {
	n, err := l.conn.Conn().WaitForNotification(ctx)
	if err != nil {
		return "", fmt.Errorf("waiting for the outbox: %w", err)
	}
	return bot.ChannelName(n.Payload), nil
}

// Close stops listening and gives the connection back to the pool; if
// it cannot stop listening (the connection broke), it closes the
// connection, which the pool then drops.
func (l *OutboxListener) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := l.conn.Exec(ctx, `UNLISTEN `+notifyChannel)
	if err != nil {
		err = errors.Join(fmt.Errorf("unlistening: %w", err), l.conn.Conn().Close(ctx))
	}
	l.conn.Release()
	return err
}
