package store

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"mobilise/bot"
)

// bucketLinkCodes holds the short-lived codes of /link and what they lead to:
//
//	"c:" code              : <JSON linkCode>     the code a person gave to join a second account
//	"p:" (contact id)      : <code>              the live code of a person: one at a time
//	"l:" token             : <JSON PendingLink>  a link waiting for its privileged side to confirm
//	"g:" (address mark)    : <JSON []unix>       wrong codes typed from an address in the last hour
//	"r:" (address mark)    : <empty>             a referral was credited for this address, ever
var bucketLinkCodes = []byte("link_codes")

// linkCode is what a code stands for.
type linkCode struct {
	ContactID uint64    `json:"contact_id"`
	Expires   time.Time `json:"expires"`
}

// pruneLinkCodes bounds how many expired entries one write removes.
const pruneLinkCodes = 16

// PutLinkCode records that code, until expires, stands for contactID. The
// person's previous code, if any, stops working: one live code per person.
// Expired codes are pruned, a few on each call.
func (s *Store) PutLinkCode(ctx context.Context, code string, contactID uint64, expires time.Time) error {
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketLinkCodes)
		byPerson := append([]byte("p:"), itob(contactID)...)
		if old := b.Get(byPerson); old != nil {
			if err := b.Delete(append([]byte("c:"), old...)); err != nil {
				return err
			}
		}
		if err := putJSON(b, []byte("c:"+code), linkCode{ContactID: contactID, Expires: expires.UTC()}); err != nil {
			return err
		}
		if err := b.Put(byPerson, []byte(code)); err != nil {
			return err
		}
		return pruneExpiredCodes(b, s.stamp())
	})
	if err != nil {
		return fmt.Errorf("storing link code: %w", err)
	}
	return nil
}

// pruneExpiredCodes deletes up to pruneLinkCodes expired codes.
func pruneExpiredCodes(b *bbolt.Bucket, now time.Time) error {
	var dead [][]byte
	var owners [][]byte
	c := b.Cursor()
	prefix := []byte("c:")
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(dead) < pruneLinkCodes; k, v = c.Next() {
		var lc linkCode
		if err := json.Unmarshal(v, &lc); err != nil || !now.Before(lc.Expires) {
			dead = append(dead, bytes.Clone(k))
			owners = append(owners, append([]byte("p:"), itob(lc.ContactID)...))
		}
	}
	for i, k := range dead {
		if err := b.Delete(k); err != nil {
			return err
		}
		if bytes.Equal(b.Get(owners[i]), k[2:]) {
			if err := b.Delete(owners[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// TakeLinkCode returns the contact a code stands for and deletes the code, so
// it works once. An unknown or expired code is ErrNotFound.
func (s *Store) TakeLinkCode(ctx context.Context, code string, now time.Time) (uint64, error) {
	var lc linkCode
	expired := false
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketLinkCodes)
		if err := getJSON(b, []byte("c:"+code), &lc); err != nil {
			return err
		}
		if err := b.Delete([]byte("c:" + code)); err != nil {
			return err
		}
		byPerson := append([]byte("p:"), itob(lc.ContactID)...)
		if bytes.Equal(b.Get(byPerson), []byte(code)) {
			if err := b.Delete(byPerson); err != nil {
				return err
			}
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

// ForgetLinkCodes deletes the codes and pending links of a contact, for /forget.
func (s *Store) ForgetLinkCodes(ctx context.Context, contactID uint64) error {
	err := s.write(ctx, func(tx *bbolt.Tx) error { return forgetLinkCodes(tx, contactID) })
	if err != nil {
		return fmt.Errorf("forgetting the link codes of contact %d: %w", contactID, err)
	}
	return nil
}

func forgetLinkCodes(tx *bbolt.Tx, contactID uint64) error {
	b := tx.Bucket(bucketLinkCodes)
	var dead [][]byte
	err := b.ForEach(func(k, v []byte) error {
		switch {
		case bytes.HasPrefix(k, []byte("c:")):
			var lc linkCode
			if json.Unmarshal(v, &lc) != nil || lc.ContactID == contactID {
				dead = append(dead, bytes.Clone(k))
			}
		case bytes.HasPrefix(k, []byte("p:")):
			if len(k) == 10 && btoi(k[2:]) == contactID {
				dead = append(dead, bytes.Clone(k))
			}
		case bytes.HasPrefix(k, []byte("l:")):
			var pl PendingLink
			if json.Unmarshal(v, &pl) != nil || pl.Requester == contactID || pl.Owner == contactID {
				dead = append(dead, bytes.Clone(k))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range dead {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// PendingLink is a link of two accounts that a privileged side must confirm
// before it happens: Owner gave the code, Requester typed it.
type PendingLink struct {
	Owner     uint64    `json:"owner"`
	Requester uint64    `json:"requester"`
	Expires   time.Time `json:"expires"`
}

// PutPendingLink keeps a link waiting for confirmation under token.
func (s *Store) PutPendingLink(ctx context.Context, token string, pl PendingLink) error {
	pl.Expires = pl.Expires.UTC()
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		return putJSON(tx.Bucket(bucketLinkCodes), []byte("l:"+token), pl)
	})
	if err != nil {
		return fmt.Errorf("storing a pending link: %w", err)
	}
	return nil
}

// TakePendingLink returns the link waiting under token and deletes it; an
// unknown or expired one is ErrNotFound.
func (s *Store) TakePendingLink(ctx context.Context, token string, now time.Time) (PendingLink, error) {
	var pl PendingLink
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketLinkCodes)
		if err := getJSON(b, []byte("l:"+token), &pl); err != nil {
			return err
		}
		return b.Delete([]byte("l:" + token))
	})
	if err == nil && !now.Before(pl.Expires) {
		err = ErrNotFound
	}
	if err != nil {
		return PendingLink{}, fmt.Errorf("pending link: %w", err)
	}
	return pl, nil
}

// addressKeyName holds, in meta, the random key that marks addresses.
var addressKeyName = []byte("address_key")

// AddressMark returns a keyed hash of an address: the same address always
// gives the same mark, but the mark tells nothing of the address. Limits and
// credit that must outlive /forget (wrong link codes typed, a referral
// already counted) are kept under it, so no personal data is.
func (s *Store) AddressMark(ctx context.Context, addr bot.Address) ([]byte, error) {
	var key []byte
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		key = bytes.Clone(tx.Bucket(bucketMeta).Get(addressKeyName))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the address key: %w", err)
	}
	if key == nil {
		fresh := make([]byte, 32)
		_, _ = rand.Read(fresh) // crypto/rand.Read never returns an error
		// two first callers may race: the first key written wins
		err := s.write(ctx, func(tx *bbolt.Tx) error {
			meta := tx.Bucket(bucketMeta)
			if key = bytes.Clone(meta.Get(addressKeyName)); key != nil {
				return nil
			}
			key = fresh
			return meta.Put(addressKeyName, fresh)
		})
		if err != nil {
			return nil, fmt.Errorf("creating the address key: %w", err)
		}
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(addr.String()))
	return m.Sum(nil)[:16], nil
}

// LinkFailures returns the times wrong link codes were typed from the
// address marked mark within the hour before now.
func (s *Store) LinkFailures(ctx context.Context, mark []byte, now time.Time) ([]time.Time, error) {
	var out []time.Time
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		var err error
		out, err = recentMarks(tx.Bucket(bucketLinkCodes), append([]byte("g:"), mark...), now, time.Hour)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading link failures: %w", err)
	}
	return out, nil
}

// AddLinkFailure records a wrong link code typed at now from the address
// marked mark, keeping the last hour's.
func (s *Store) AddLinkFailure(ctx context.Context, mark []byte, now time.Time) error {
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		return addMark(tx.Bucket(bucketLinkCodes), append([]byte("g:"), mark...), now, time.Hour)
	})
	if err != nil {
		return fmt.Errorf("recording a link failure: %w", err)
	}
	return nil
}

// CreditReferralOnce reports whether a referral from the address marked
// mark is credited for the first time, and remembers it for good: a person
// who forgets themself and comes back through the same link is not counted
// again. Kept under the mark ("r:" in link_codes), nothing personal is.
func (s *Store) CreditReferralOnce(ctx context.Context, mark []byte) (bool, error) {
	first := false
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketLinkCodes)
		key := append([]byte("r:"), mark...)
		if b.Get(key) != nil {
			return nil
		}
		first = true
		return b.Put(key, nil)
	})
	if err != nil {
		return false, fmt.Errorf("crediting a referral: %w", err)
	}
	return first, nil
}
