package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// bucketBulkSends is the ledger of bulk sends: who sent how many messages
// when, and whether a second person approved. The rule that a large send
// needs a second person counts an author's unapproved sends of the last 24
// hours together, so an audience split into parts needs approval all the same.
var bucketBulkSends = []byte("bulk_sends")

// bulkSendsKept is how long the ledger remembers a send.
const bulkSendsKept = 48 * time.Hour

// BulkSend is one entry of the ledger: a broadcast queued or a reminder fired.
type BulkSend struct {
	Author uint64    `json:"author"`
	At     time.Time `json:"at"`
	// Kind is "broadcast" or "reminder", ID the broadcast's or reminder's.
	Kind       string `json:"kind"`
	ID         uint64 `json:"id"`
	Recipients int    `json:"recipients"`
	// Approved is set when a second person approved the send.
	Approved bool `json:"approved,omitempty"`
}

// bulkSendKey is (author ‖ unix nanoseconds ‖ sequence).
func bulkSendKey(author uint64, at time.Time, seq uint64) []byte {
	k := make([]byte, 24)
	copy(k, itob(author))
	copy(k[8:], itob(uint64(at.UnixNano())))
	copy(k[16:], itob(seq))
	return k
}

// RecordBulkSend adds a send to the ledger, pruning the author's entries
// older than 48 hours. A zero At is now.
func (s *Store) RecordBulkSend(ctx context.Context, e BulkSend) error {
	if e.At.IsZero() {
		e.At = s.stamp()
	}
	e.At = e.At.UTC()
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketBulkSends)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		if err := putJSON(b, bulkSendKey(e.Author, e.At, seq), e); err != nil {
			return err
		}
		prefix := itob(e.Author)
		cutoff := uint64(e.At.Add(-bulkSendsKept).UnixNano())
		var old [][]byte
		c := b.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(k) == 24 && btoi(k[8:16]) < cutoff; k, _ = c.Next() {
			old = append(old, bytes.Clone(k))
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recording a bulk send of %d: %w", e.Author, err)
	}
	return nil
}

// BulkSentSince returns the author's sends since the given time, oldest first.
func (s *Store) BulkSentSince(ctx context.Context, author uint64, since time.Time) ([]BulkSend, error) {
	var out []BulkSend
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketBulkSends).Cursor()
		prefix := itob(author)
		if since.Before(time.Unix(0, 0)) {
			since = time.Unix(0, 0)
		}
		from := bulkSendKey(author, since, 0)
		for k, v := c.Seek(from); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var e BulkSend
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decoding bulk send %x: %w", k, err)
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the bulk sends of %d: %w", author, err)
	}
	return out, nil
}

// moveBulkSends gives keepID the ledger entries of mergeID, which a link
// joins into it: the sends one person made from either account count
// together.
func moveBulkSends(tx *bbolt.Tx, keepID, mergeID uint64) error {
	b := tx.Bucket(bucketBulkSends)
	prefix := itob(mergeID)
	var keys, values [][]byte
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		keys, values = append(keys, bytes.Clone(k)), append(values, bytes.Clone(v))
	}
	for i, k := range keys {
		var e BulkSend
		if err := json.Unmarshal(values[i], &e); err != nil {
			return fmt.Errorf("decoding bulk send %x: %w", k, err)
		}
		e.Author = keepID
		nk := bytes.Clone(k)
		copy(nk, itob(keepID))
		if err := putJSON(b, nk, e); err != nil {
			return err
		}
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
