package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"
)

// itob encodes v as 8 big-endian bytes, so numeric keys sort in order.
func itob(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

// btoi decodes itob's encoding; a value of another length reads as 0.
func btoi(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// pairKey is the (campaign id ‖ contact id) key of pledges and sign-ups.
func pairKey(campaignID, contactID uint64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, campaignID)
	binary.BigEndian.PutUint64(k[8:], contactID)
	return k
}

// pairRecord is a pledge or a sign-up, stored under (campaign id ‖ contact
// id) without repeating either: the key holds them.
type pairRecord[T any] interface {
	*T
	pairIDs() (campaign, contact *uint64)
}

func (p *Pledge) pairIDs() (campaign, contact *uint64) { return &p.CampaignID, &p.ContactID }
func (s *Signup) pairIDs() (campaign, contact *uint64) { return &s.CampaignID, &s.ContactID }

// decodePair decodes the pledge or sign-up v stored under key, taking its
// IDs from the key: an anonymous pledge's contact ID stays zero. Records
// written before they left the IDs out read the same.
func decodePair[T any, P pairRecord[T]](key, v []byte, rec P) error {
	if err := json.Unmarshal(v, rec); err != nil {
		return fmt.Errorf("decoding record %x: %w", key, err)
	}
	if len(key) == 16 {
		campaign, contact := rec.pairIDs()
		*campaign, *contact = btoi(key[:8]), 0
		if id := btoi(key[8:]); isContactID(id) {
			*contact = id
		}
	}
	return nil
}

// getPair is getJSON for a pledge or a sign-up.
func getPair[T any, P pairRecord[T]](b *bbolt.Bucket, key []byte, rec P) error {
	v := b.Get(key)
	if v == nil {
		return ErrNotFound
	}
	return decodePair[T, P](key, v, rec)
}

// putPair stores a pledge or a sign-up under key without its IDs.
func putPair[T any, P pairRecord[T]](b *bbolt.Bucket, key []byte, rec P) error {
	lean := *rec
	campaign, contact := P(&lean).pairIDs()
	*campaign, *contact = 0, 0
	return putJSON(b, key, &lean)
}

// getJSON decodes inside the transaction: bbolt's bytes are invalid once it ends.
func getJSON(b *bbolt.Bucket, key []byte, v any) error {
	buf := b.Get(key)
	if buf == nil {
		return ErrNotFound
	}
	if err := json.Unmarshal(buf, v); err != nil {
		return fmt.Errorf("decoding record %x: %w", key, err)
	}
	return nil
}

// putJSON encodes v and stores it under key.
func putJSON(b *bbolt.Bucket, key []byte, v any) error {
	buf, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %T: %w", v, err)
	}
	return b.Put(key, buf)
}

// pageSize is how many records one read transaction of a paged scan reads.
const pageSize = 256

// scanJSON calls fn for each record of bucket whose key starts with prefix,
// in key order. It reads pageSize records per read transaction and calls fn
// outside any transaction, so fn may use the store (even write to it) and a
// long scan does not pin old pages. Records written during the scan may or
// may not be seen. fn's error stops the scan and is returned as it is.
func scanJSON[T any](ctx context.Context, s *Store, bucket, prefix []byte, fn func(key []byte, rec *T) error) error {
	return scanRecords(ctx, s, bucket, prefix, func(_, v []byte, rec *T) error { return json.Unmarshal(v, rec) }, fn)
}

// scanRecords is scanJSON for records that decode reads.
func scanRecords[T any](ctx context.Context, s *Store, bucket, prefix []byte, decode func(k, v []byte, rec *T) error, fn func(key []byte, rec *T) error) error {
	var after []byte
	for {
		var keys [][]byte
		var page []T
		err := s.read(ctx, func(tx *bbolt.Tx) error {
			c := tx.Bucket(bucket).Cursor()
			k, v := c.Seek(prefix)
			if after != nil {
				if k, v = c.Seek(after); bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			for ; k != nil && bytes.HasPrefix(k, prefix) && len(page) < pageSize; k, v = c.Next() {
				var rec T
				if err := decode(k, v, &rec); err != nil {
					return fmt.Errorf("decoding %s %x: %w", bucket, k, err)
				}
				page = append(page, rec)
				keys = append(keys, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for i := range page {
			if err := fn(keys[i], &page[i]); err != nil {
				return err
			}
		}
		if len(page) < pageSize {
			return nil
		}
		after = keys[len(keys)-1]
	}
}
