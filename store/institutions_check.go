package store

import (
	"slices"

	"go.etcd.io/bbolt"
)

// checkInstitutionLinks checks, inside tx, that the indexes of version 7
// agree with their records both ways: institution_people with the
// contacts' Affiliations, supporters with supported_by and with existing
// institutions and contacts, institution_codes with the institutions' codes.
func checkInstitutionLinks(tx *bbolt.Tx, report reportFunc) {
	contacts, insts := tx.Bucket(bucketContacts), tx.Bucket(bucketInstitutions)
	people := tx.Bucket(bucketInstitutionPeople)
	if people == nil {
		return // a file of an earlier version
	}
	_ = contacts.ForEach(func(k, v []byte) error {
		var c Contact
		if err := decodeContact(btoi(k), v, &c); err != nil {
			return nil // checkContacts reports it
		}
		for _, a := range c.Affiliations {
			if people.Get(pairKey(a.InstitutionID, c.ID)) == nil {
				report("contact %d acts for institution %d, which institution_people does not list", c.ID, a.InstitutionID)
			}
		}
		return nil
	})
	_ = people.ForEach(func(k, _ []byte) error {
		if len(k) != 16 {
			report("institution_people key %x is not 16 bytes", k)
			return nil
		}
		var c Contact
		if err := getContact(contacts, k[8:], &c); err != nil {
			report("institution_people lists contact %d: %v", btoi(k[8:]), err)
			return nil
		}
		if !slices.ContainsFunc(c.Affiliations, func(a Affiliation) bool { return a.InstitutionID == btoi(k[:8]) }) {
			report("institution_people lists contact %d for institution %d, which they do not act for", c.ID, btoi(k[:8]))
		}
		return nil
	})
	sups, by := tx.Bucket(bucketSupporters), tx.Bucket(bucketSupportedBy)
	_ = sups.ForEach(func(k, v []byte) error {
		if len(k) != 16 {
			report("supporters key %x is not 16 bytes", k)
			return nil
		}
		inst, cid := btoi(k[:8]), btoi(k[8:])
		var sp Support
		if err := decodeJSON(k, v, &sp); err != nil {
			report("supporters %x: %v", k, err)
			return nil
		}
		switch {
		case sp.InstitutionID != inst || sp.ContactID != cid:
			report("supporters %x names institution %d and contact %d", k, sp.InstitutionID, sp.ContactID)
		case insts.Get(k[:8]) == nil:
			report("supporters of missing institution %d", inst)
		case contacts.Get(k[8:]) == nil:
			report("missing contact %d on the list of institution %d", cid, inst)
		case by.Get(pairKey(cid, inst)) == nil:
			report("contact %d on the list of institution %d is not in supported_by", cid, inst)
		}
		return nil
	})
	_ = by.ForEach(func(k, _ []byte) error {
		if len(k) != 16 || sups.Get(pairKey(btoi(k[8:]), btoi(k[:8]))) == nil {
			report("supported_by %x has no record on the list", k)
		}
		return nil
	})
	codes := tx.Bucket(bucketInstitutionCodes)
	_ = insts.ForEach(func(k, v []byte) error {
		var inst Institution
		if err := decodeJSON(k, v, &inst); err != nil {
			return nil
		}
		if inst.Code != "" && btoi(codes.Get([]byte(inst.Code))) != inst.ID {
			report("institution %d has code %q, which institution_codes does not give it", inst.ID, inst.Code)
		}
		return nil
	})
	_ = codes.ForEach(func(k, v []byte) error {
		var inst Institution
		if err := getJSON(insts, v, &inst); err != nil || inst.Code != string(k) {
			report("institution_codes %q points at institution %d, whose code is %q", k, btoi(v), inst.Code)
		}
		return nil
	})
}
