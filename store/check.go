package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"
)

// maxProblems bounds what Check reports of a badly damaged file.
const maxProblems = 50

// Check verifies the file in one read transaction: bbolt's page structure,
// that every index entry and its record agree both ways, that every pledge
// and sign-up belongs to an existing campaign and contact (or is anonymous),
// and that each campaign's counters equal its records. It returns nil or
// all problems found, joined (at most 50).
func (s *Store) Check() error {
	var problems []error
	report := func(format string, args ...any) {
		if len(problems) < maxProblems {
			problems = append(problems, fmt.Errorf(format, args...))
		}
	}
	err := s.view(func(tx *bbolt.Tx) error {
		for _, err := range collect(tx.Check()) {
			report("pages: %w", err)
		}
		checkContacts(tx, report)
		checkCampaigns(tx, report)
		checkPairs(tx, bucketPledges, true, report)
		checkPairs(tx, bucketSignups, false, report)
		checkOutbox(tx, report)
		checkReminders(tx, report)
		return tx.Bucket(bucketSessions).ForEach(func(k, _ []byte) error {
			if tx.Bucket(bucketContacts).Get(k) == nil {
				report("session of missing contact %d", btoi(k))
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("checking %s: %w", s.path, err)
	}
	return errors.Join(problems...)
}

type reportFunc func(format string, args ...any)

func checkContacts(tx *bbolt.Tx, report reportFunc) {
	contacts, addrs, codes := tx.Bucket(bucketContacts), tx.Bucket(bucketAddresses), tx.Bucket(bucketRefCodes)
	_ = contacts.ForEach(func(k, v []byte) error {
		var c Contact
		if err := json.Unmarshal(v, &c); err != nil {
			report("contact %d: %w", btoi(k), err)
			return nil
		}
		if c.ID != btoi(k) {
			report("contact under key %d has ID %d", btoi(k), c.ID)
		}
		for _, a := range c.Addresses {
			if !bytes.Equal(addrs.Get([]byte(a)), k) {
				report("address %s of contact %d is indexed to %d", a, c.ID, btoi(addrs.Get([]byte(a))))
			}
		}
		if !bytes.Equal(codes.Get([]byte(c.RefCode)), k) {
			report("share code %q of contact %d is indexed to %d", c.RefCode, c.ID, btoi(codes.Get([]byte(c.RefCode))))
		}
		return nil
	})
	_ = addrs.ForEach(func(k, v []byte) error {
		var c Contact
		if err := getJSON(contacts, v, &c); err != nil {
			report("address %s: contact %d: %w", k, btoi(v), err)
		} else if !slices.Contains(c.Addresses, string(k)) {
			report("address %s is indexed to contact %d, which does not list it", k, c.ID)
		}
		return nil
	})
	_ = codes.ForEach(func(k, v []byte) error {
		if contacts.Get(v) == nil {
			report("share code %q is indexed to missing contact %d", k, btoi(v))
		}
		return nil
	})
}

func checkCampaigns(tx *bbolt.Tx, report reportFunc) {
	campaigns, codes := tx.Bucket(bucketCampaigns), tx.Bucket(bucketCampaignCodes)
	_ = campaigns.ForEach(func(k, v []byte) error {
		var c Campaign
		if err := json.Unmarshal(v, &c); err != nil {
			report("campaign %d: %w", btoi(k), err)
			return nil
		}
		if !bytes.Equal(codes.Get([]byte(c.Code)), k) {
			report("code %q of campaign %d is indexed to %d", c.Code, c.ID, btoi(codes.Get([]byte(c.Code))))
		}
		counted, err := readCounts(tx, c.ID)
		if err != nil {
			report("counters of campaign %d: %w", c.ID, err)
			return nil
		}
		actual := Counts{Pledges: countPrefix(tx.Bucket(bucketPledges), k), Signups: countPrefix(tx.Bucket(bucketSignups), k)}
		if counted != actual {
			report("campaign %d counters say %+v, records %+v", c.ID, counted, actual)
		}
		return nil
	})
	_ = codes.ForEach(func(k, v []byte) error {
		if campaigns.Get(v) == nil {
			report("campaign code %q is indexed to missing campaign %d", k, btoi(v))
		}
		return nil
	})
}

// checkPairs checks the (campaign ‖ contact) keys of pledges or sign-ups
// against the records and the campaigns and contacts they name.
func checkPairs(tx *bbolt.Tx, bucket []byte, anonAllowed bool, report reportFunc) {
	campaigns, contacts := tx.Bucket(bucketCampaigns), tx.Bucket(bucketContacts)
	_ = tx.Bucket(bucket).ForEach(func(k, v []byte) error {
		if len(k) != 16 {
			report("%s key %x is not 16 bytes", bucket, k)
			return nil
		}
		cid, pid := binary.BigEndian.Uint64(k), binary.BigEndian.Uint64(k[8:])
		var rec struct {
			CampaignID uint64 `json:"campaign_id"`
			ContactID  uint64 `json:"contact_id"`
		}
		if err := json.Unmarshal(v, &rec); err != nil {
			report("%s %x: %w", bucket, k, err)
			return nil
		}
		if campaigns.Get(k[:8]) == nil || rec.CampaignID != cid {
			report("%s %x: campaign %d (record says %d) is missing", bucket, k, cid, rec.CampaignID)
		}
		switch {
		case pid&anonBit != 0:
			if !anonAllowed || rec.ContactID != 0 {
				report("%s %x: anonymous key with contact %d", bucket, k, rec.ContactID)
			}
		case rec.ContactID != pid || contacts.Get(k[8:]) == nil:
			report("%s %x: contact %d (record says %d) is missing", bucket, k, pid, rec.ContactID)
		}
		return nil
	})
}

func countPrefix(b *bbolt.Bucket, prefix []byte) int {
	n := 0
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		n++
	}
	return n
}
