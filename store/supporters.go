package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// The supporters of member institutions: the people on an institution's
// list, whom it may write to. The supporters bucket is keyed institution ‖
// contact, so one institution's list is a prefix scan (the audience "an
// institution's supporters" reads it), and written in the same transaction
// as whatever made someone a supporter; supported_by is its reverse, so a
// person's lists are found without a scan.
var (
	bucketSupporters  = []byte("supporters")
	bucketSupportedBy = []byte("supported_by")
)

// How people come onto an institution's list.
const (
	ViaLink   = "link"   // they opened the institution's share link and said yes
	ViaPledge = "pledge" // they pledged to a campaign credited to it
	ViaSignup = "signup" // they signed up for its event
	ViaPoll   = "poll"   // they answered its poll
)

// Support is one person on one institution's list.
type Support struct {
	InstitutionID uint64    `json:"institution_id"`
	ContactID     uint64    `json:"contact_id"`
	At            time.Time `json:"at"`
	// Via is how they came: ViaLink, ViaPledge, ViaSignup or ViaPoll.
	Via string `json:"via"`
	// Newcomer is set when the institution's link first brought them to the bot.
	Newcomer bool `json:"newcomer,omitempty"`
	// Governorate is where they said they live when they came.
	Governorate string `json:"governorate,omitempty"`
	// Left is when they left the list. The record stays, so a later pledge
	// does not put them back on it; only their own yes to the institution's
	// link does.
	Left time.Time `json:"left,omitzero"`
}

// Active reports whether the person is on the list now.
func (s *Support) Active() bool { return s.Left.IsZero() }

// AddSupporter puts a person on an institution's list, in one transaction
// with its reverse index. A person already on it stays as they were. A
// person who left it is put back only when rejoin is set (they said yes to
// the institution's link again); otherwise their leaving is respected. It
// reports whether the person is newly on the list. ErrNotFound if the
// contact or the institution does not exist.
func (s *Store) AddSupporter(ctx context.Context, sp Support, rejoin bool) (bool, error) {
	if sp.At.IsZero() {
		sp.At = s.stamp()
	}
	sp.At, sp.Left = sp.At.UTC(), time.Time{}
	added := false
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		added = false
		if tx.Bucket(bucketInstitutions).Get(itob(sp.InstitutionID)) == nil {
			return fmt.Errorf("institution %d: %w", sp.InstitutionID, ErrNotFound)
		}
		if !isContactID(sp.ContactID) || tx.Bucket(bucketContacts).Get(itob(sp.ContactID)) == nil {
			return fmt.Errorf("contact %d: %w", sp.ContactID, ErrNotFound)
		}
		b := tx.Bucket(bucketSupporters)
		key := pairKey(sp.InstitutionID, sp.ContactID)
		var old Support
		switch err := getJSON(b, key, &old); {
		case err == nil && (old.Active() || !rejoin):
			return nil
		case err != nil && !errors.Is(err, ErrNotFound):
			return err
		}
		added = true
		if err := putJSON(b, key, &sp); err != nil {
			return err
		}
		if err := tx.Bucket(bucketSupportedBy).Put(pairKey(sp.ContactID, sp.InstitutionID), nil); err != nil {
			return err
		}
		return joinRelation(tx, segSupporters, itob(sp.InstitutionID), sp.ContactID)
	})
	if err != nil {
		return false, fmt.Errorf("adding contact %d to the supporters of institution %d: %w", sp.ContactID, sp.InstitutionID, err)
	}
	return added, nil
}

// LeaveSupporters takes a person off an institution's list, keeping the
// record of their leaving. It reports whether they were on it.
func (s *Store) LeaveSupporters(ctx context.Context, institutionID, contactID uint64) (bool, error) {
	left := false
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		left = false
		b := tx.Bucket(bucketSupporters)
		key := pairKey(institutionID, contactID)
		var sp Support
		switch err := getJSON(b, key, &sp); {
		case errors.Is(err, ErrNotFound):
			return nil
		case err != nil:
			return err
		}
		if !sp.Active() {
			return nil
		}
		sp.Left, left = s.stamp(), true
		if err := putJSON(b, key, &sp); err != nil {
			return err
		}
		return leaveRelation(tx, segSupporters, itob(institutionID), contactID)
	})
	if err != nil {
		return false, fmt.Errorf("contact %d leaving the supporters of institution %d: %w", contactID, institutionID, err)
	}
	return left, nil
}

// Supporter returns a person's record on an institution's list (which may
// say they left), or ErrNotFound.
func (s *Store) Supporter(ctx context.Context, institutionID, contactID uint64) (*Support, error) {
	sp := &Support{}
	if err := s.read(ctx, func(tx *bbolt.Tx) error {
		return getJSON(tx.Bucket(bucketSupporters), pairKey(institutionID, contactID), sp)
	}); err != nil {
		return nil, fmt.Errorf("contact %d in the supporters of institution %d: %w", contactID, institutionID, err)
	}
	return sp, nil
}

// ContactSupports returns the person's records on every institution's list,
// those they left included, in institution ID order.
func (s *Store) ContactSupports(ctx context.Context, contactID uint64) ([]Support, error) {
	var out []Support
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		sups := tx.Bucket(bucketSupporters)
		prefix := itob(contactID)
		c := tx.Bucket(bucketSupportedBy).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			var sp Support
			if err := getJSON(sups, pairKey(btoi(k[8:]), contactID), &sp); err != nil {
				return fmt.Errorf("institution %d in the lists of contact %d: %w", btoi(k[8:]), contactID, err)
			}
			out = append(out, sp)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lists of contact %d: %w", contactID, err)
	}
	return out, nil
}

// Supporters calls fn for every record of an institution's list, those who
// left included, in contact ID order, stopping at fn's first error, which
// it returns as it is. Like Contacts, fn runs outside any transaction.
func (s *Store) Supporters(ctx context.Context, institutionID uint64, fn func(*Support) error) error {
	return scanJSON(ctx, s, bucketSupporters, itob(institutionID), func(_ []byte, sp *Support) error { return fn(sp) })
}

// activeSupport reports whether the stored Support v, under key k, is of
// someone on the list now.
func activeSupport(k, v []byte) (bool, error) {
	var sp struct {
		Left time.Time `json:"left"`
	}
	if err := decodeJSON(k, v, &sp); err != nil {
		return false, err
	}
	return sp.Left.IsZero(), nil
}

// onList reports whether contact id is on institution inst's list now, in
// the transaction of supporters.
func onList(supporters *bbolt.Bucket, inst, id uint64) (bool, error) {
	k := pairKey(inst, id)
	v := supporters.Get(k)
	if v == nil {
		return false, nil
	}
	return activeSupport(k, v)
}

// forgetSupports deletes a forgotten contact's records on every list, inside
// tx, once ForgetContact has taken them out of every audience.
func forgetSupports(tx *bbolt.Tx, contactID uint64) error {
	sups, by := tx.Bucket(bucketSupporters), tx.Bucket(bucketSupportedBy)
	prefix := itob(contactID)
	var keys [][]byte
	c := by.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := sups.Delete(pairKey(btoi(k[8:]), contactID)); err != nil {
			return err
		}
		if err := by.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// moveSupports gives mergeID's records to keepID when their accounts
// merge, inside tx. Where both were on a list, keepID's record stays,
// unless only mergeID's is active: the person is on the list if either
// account was. LinkAddresses moves the audience counters around it.
func moveSupports(tx *bbolt.Tx, keepID, mergeID uint64) error {
	sups, by := tx.Bucket(bucketSupporters), tx.Bucket(bucketSupportedBy)
	prefix := itob(mergeID)
	var insts []uint64
	c := by.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		insts = append(insts, btoi(k[8:]))
	}
	for _, inst := range insts {
		var from Support
		if err := getJSON(sups, pairKey(inst, mergeID), &from); err != nil {
			return fmt.Errorf("institution %d in the lists of contact %d: %w", inst, mergeID, err)
		}
		var to Support
		switch err := getJSON(sups, pairKey(inst, keepID), &to); {
		case errors.Is(err, ErrNotFound), err == nil && !to.Active() && from.Active():
			from.ContactID = keepID
			if err := putJSON(sups, pairKey(inst, keepID), &from); err != nil {
				return err
			}
			if err := by.Put(pairKey(keepID, inst), nil); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		if err := sups.Delete(pairKey(inst, mergeID)); err != nil {
			return err
		}
		if err := by.Delete(pairKey(mergeID, inst)); err != nil {
			return err
		}
	}
	return nil
}

// forgetInstitutionLinks drops what ties a forgotten contact to member
// institutions, inside tx: their roles' index entries and their records on
// every list.
func forgetInstitutionLinks(tx *bbolt.Tx, c *Contact) error {
	if err := forgetAffiliations(tx, c); err != nil {
		return err
	}
	return forgetSupports(tx, c.ID)
}

// moveInstitutionLinks gives merge's roles in institutions and records on
// their lists to keep, inside tx; the caller writes keep.
func moveInstitutionLinks(tx *bbolt.Tx, keep, merge *Contact) error {
	if err := moveAffiliations(tx, keep, merge); err != nil {
		return err
	}
	return moveSupports(tx, keep.ID, merge.ID)
}
