package store

import (
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// linkCode is a short-lived code one person sends from a second account to
// join the two; it lives in meta under "link_code:<code>".
type linkCode struct {
	ContactID uint64    `json:"contact_id"`
	Expires   time.Time `json:"expires"`
}

func linkCodeKey(code string) []byte { return []byte("link_code:" + code) }

// PutLinkCode records that code, until expires, stands for contactID.
func (s *Store) PutLinkCode(code string, contactID uint64, expires time.Time) error {
	err := s.update(func(tx *bbolt.Tx) error {
		return putJSON(tx.Bucket(bucketMeta), linkCodeKey(code), linkCode{ContactID: contactID, Expires: expires.UTC()})
	})
	if err != nil {
		return fmt.Errorf("storing link code: %w", err)
	}
	return nil
}

// TakeLinkCode returns the contact a code stands for and deletes the code, so
// it works once. An unknown or expired code is ErrNotFound.
func (s *Store) TakeLinkCode(code string, now time.Time) (uint64, error) {
	var lc linkCode
	expired := false
	err := s.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		if err := getJSON(b, linkCodeKey(code), &lc); err != nil {
			return err
		}
		if err := b.Delete(linkCodeKey(code)); err != nil {
			return err
		}
		// an expired code is deleted all the same
		expired = !now.Before(lc.Expires)
		return nil
	})
	if err == nil && expired {
		err = ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("link code: %w", err)
	}
	return lc.ContactID, nil
}
