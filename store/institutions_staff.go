package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"
)

// bucketInstitutionPeople indexes Contact.Affiliations by institution, so an
// institution's representatives and coordinators are found without reading
// every contact.
var bucketInstitutionPeople = []byte("institution_people")

// UpdateAffiliations reads the contact, lets fn change it (its
// Affiliations, and the role fields that go with them) and writes it back
// with the institution_people index in step, in one transaction. fn may
// change any field UpdateContact allows; an institution appears at most
// once in Affiliations (a later entry for the same one is dropped). If fn
// returns an error nothing is written.
func (s *Store) UpdateAffiliations(ctx context.Context, contactID uint64, fn func(*Contact) error) (*Contact, error) {
	var out *Contact
	err := s.InTx(ctx, func(ctx context.Context) error {
		var old []Affiliation
		c, err := s.UpdateContact(ctx, contactID, func(c *Contact) error {
			old = slices.Clone(c.Affiliations)
			if err := fn(c); err != nil {
				return err
			}
			c.Affiliations = uniqueAffiliations(c.Affiliations)
			return nil
		})
		if err != nil {
			return err
		}
		out = c
		return s.write(ctx, func(tx *bbolt.Tx) error { return syncAffiliations(tx, contactID, old, c.Affiliations) })
	})
	if err != nil {
		return nil, fmt.Errorf("updating the affiliations of contact %d: %w", contactID, err)
	}
	return out, nil
}

// uniqueAffiliations keeps the first entry of each institution.
func uniqueAffiliations(as []Affiliation) []Affiliation {
	var out []Affiliation
	for _, a := range as {
		if a.InstitutionID == 0 || slices.ContainsFunc(out, func(b Affiliation) bool { return b.InstitutionID == a.InstitutionID }) {
			continue
		}
		out = append(out, a)
	}
	return out
}

// syncAffiliations makes the index match the change from old to now.
func syncAffiliations(tx *bbolt.Tx, contactID uint64, old, now []Affiliation) error {
	b := tx.Bucket(bucketInstitutionPeople)
	for _, a := range old {
		if !slices.ContainsFunc(now, func(n Affiliation) bool { return n.InstitutionID == a.InstitutionID }) {
			if err := b.Delete(pairKey(a.InstitutionID, contactID)); err != nil {
				return err
			}
		}
	}
	for _, a := range now {
		if err := putJSON(b, pairKey(a.InstitutionID, contactID), a); err != nil {
			return err
		}
	}
	return nil
}

// Affiliate is one person's role in an institution, as the index lists it.
type Affiliate struct {
	ContactID uint64
	Affiliation
}

// InstitutionPeople returns the representatives and coordinators of an
// institution, in contact ID order, from one read of the index.
func (s *Store) InstitutionPeople(ctx context.Context, institutionID uint64) ([]Affiliate, error) {
	var out []Affiliate
	prefix := itob(institutionID)
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketInstitutionPeople).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			a := Affiliate{ContactID: btoi(k[8:])}
			if err := decodeJSON(k, v, &a.Affiliation); err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("people of institution %d: %w", institutionID, err)
	}
	return out, nil
}

// forgetAffiliations drops a forgotten contact's entries from the index, inside tx.
func forgetAffiliations(tx *bbolt.Tx, c *Contact) error {
	b := tx.Bucket(bucketInstitutionPeople)
	for _, a := range c.Affiliations {
		if err := b.Delete(pairKey(a.InstitutionID, c.ID)); err != nil {
			return err
		}
	}
	return nil
}

// moveAffiliations gives merge's roles in institutions to keep when their
// accounts merge, inside tx: keep's Affiliations gain those it lacks (the
// caller writes keep), and the index follows.
func moveAffiliations(tx *bbolt.Tx, keep, merge *Contact) error {
	old := slices.Clone(keep.Affiliations)
	keep.AbsorbAffiliations(merge)
	if err := forgetAffiliations(tx, merge); err != nil {
		return err
	}
	return syncAffiliations(tx, keep.ID, old, keep.Affiliations)
}

// AbsorbAffiliations gives keep merge's roles in institutions it lacks,
// when two contacts become one (LinkAddresses); where both have a role in
// one institution the higher wins, as for the coalition's roles. Every
// store merges by this rule, and then brings its index of the roles in
// step.
func (keep *Contact) AbsorbAffiliations(merge *Contact) {
	for _, a := range merge.Affiliations {
		switch keep.AffiliationWith(a.InstitutionID) {
		case "":
			keep.Affiliations = append(keep.Affiliations, a)
		case InstitutionCoordinator:
			if a.Role == InstitutionRepresentative {
				i := slices.IndexFunc(keep.Affiliations, func(k Affiliation) bool { return k.InstitutionID == a.InstitutionID })
				keep.Affiliations[i] = a
			}
		}
	}
}

// decodeJSON decodes a record read inside a transaction, naming its key on failure.
func decodeJSON(key, buf []byte, v any) error {
	if err := json.Unmarshal(buf, v); err != nil {
		return fmt.Errorf("decoding record %x: %w", key, err)
	}
	return nil
}
