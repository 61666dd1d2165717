package store

import (
	"bytes"
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
func scanJSON[T any](s *Store, bucket, prefix []byte, fn func(key []byte, rec *T) error) error {
	var after []byte
	for {
		var keys [][]byte
		var page []T
		err := s.view(func(tx *bbolt.Tx) error {
			c := tx.Bucket(bucket).Cursor()
			k, v := c.Seek(prefix)
			if after != nil {
				if k, v = c.Seek(after); bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			for ; k != nil && bytes.HasPrefix(k, prefix) && len(page) < pageSize; k, v = c.Next() {
				var rec T
				if err := json.Unmarshal(v, &rec); err != nil {
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
