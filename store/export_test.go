package store

import (
	"encoding/json"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"
)

// WriteVersion3 writes a database file at path as a program of schema
// version 3 left it, for the tests of package store_test: people with their
// address and share-code indexes as JSON contacts, campaigns, and the pairs
// of pledges and sign-ups with their counters, in bbolt's default page fill,
// a few thousand records per transaction. Person i is person(i); pledged
// and signedUp give the campaigns (1 to campaigns) of their pledge and
// sign-up, 0 for none.
func WriteVersion3(path string, n, campaigns int, person func(i int) Contact, pledged, signedUp func(i int) uint64) error {
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		return err
	}
	db.NoSync = true
	err = db.Update(func(tx *bbolt.Tx) error {
		if err := applyMigrations(tx, migrations[:3]); err != nil {
			return err
		}
		for id := 1; id <= campaigns; id++ {
			c := Campaign{ID: uint64(id), Code: fmt.Sprintf("c%d", id), TitleAR: "عهد السلام", Kind: KindBoth}
			if err := putJSON(tx.Bucket(bucketCampaigns), itob(c.ID), &c); err != nil {
				return err
			}
			if err := tx.Bucket(bucketCampaignCodes).Put([]byte(c.Code), itob(c.ID)); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketCampaigns).SetSequence(uint64(campaigns))
	})
	if err != nil {
		return errors.Join(err, db.Close())
	}
	counts := make([]Counts, campaigns+1)
	const perTx = 5_000
	for start := 0; start < n; start += perTx {
		err := db.Update(func(tx *bbolt.Tx) error {
			contacts := tx.Bucket(bucketContacts)
			for i := start; i < min(start+perTx, n); i++ {
				id, err := contacts.NextSequence()
				if err != nil {
					return err
				}
				c := person(i)
				c.ID, c.RefCode = id, fmt.Sprintf("r%06d", i)
				if c.CreatedAt.IsZero() {
					c.CreatedAt, c.SeenAt = c.OnboardedAt, c.OnboardedAt
				}
				v, err := json.Marshal(asJSON3(c))
				if err != nil {
					return err
				}
				if err := contacts.Put(itob(id), v); err != nil {
					return err
				}
				for _, a := range c.Addresses {
					if err := tx.Bucket(bucketAddresses).Put(addrKey(a), itob(id)); err != nil {
						return err
					}
				}
				if err := tx.Bucket(bucketRefCodes).Put([]byte(c.RefCode), itob(id)); err != nil {
					return err
				}
				if cid := pledged(i); cid != 0 {
					p := Pledge{CampaignID: cid, ContactID: id, At: c.CreatedAt, Channel: c.Addresses[0].Channel, Governorate: c.Governorate, Lang: c.Lang}
					if err := putJSON(tx.Bucket(bucketPledges), pairKey(cid, id), &p); err != nil {
						return err
					}
					counts[cid].Pledges++
				}
				if cid := signedUp(i); cid != 0 {
					su := Signup{CampaignID: cid, ContactID: id, At: c.CreatedAt, Channel: c.Addresses[0].Channel, Governorate: c.Governorate, Lang: c.Lang}
					if err := putJSON(tx.Bucket(bucketSignups), pairKey(cid, id), &su); err != nil {
						return err
					}
					counts[cid].Signups++
				}
			}
			return nil
		})
		if err != nil {
			return errors.Join(err, db.Close())
		}
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for cid := 1; cid <= campaigns; cid++ {
			if err := putJSON(tx.Bucket(bucketCounters), itob(uint64(cid)), counts[cid]); err != nil {
				return err
			}
		}
		return nil
	})
	err = errors.Join(err, db.Sync())
	return errors.Join(err, db.Close())
}
