package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"mobilise/bot"

	"go.etcd.io/bbolt"
)

// migration moves the schema from an earlier version to version inside one
// write transaction. Versions increase along the list; they need not be
// consecutive.
type migration struct {
	version uint64
	name    string
	up      func(tx *bbolt.Tx) error
	// compact asks Open to compact the file once the migration has run on
	// a file with data: one that rewrites most records leaves the file as
	// large as before, its old pages free.
	compact bool
}

// contactsBinarySince is the schema version from which contacts are stored
// in their binary form (contactcodec.go) rather than as JSON.
const contactsBinarySince = 4

// migrations is the schema's history. Append only: never edit, reorder or
// remove a released entry. Each one needs a case in TestMigrations, and the
// schema in buckets.go changes with it.
var migrations = []migration{
	{version: 1, name: "create buckets", up: createBuckets},
	{version: 2, name: "create outbox, broadcast and reminder buckets", up: createOutboxBuckets},
	{version: 3, name: "create the aliases of merged contacts, the ledger of bulk sends and the link codes' bucket", up: createVersion3},
	{version: 4, name: "store contacts in their compact binary form and count the audiences", up: migrateVersion4, compact: true},
	{version: 5, name: "create the dashboard's bucket of sign-in links and sessions", up: createVersion5},
	{version: 6, name: "create the bucket of people waiting for a campaign to open", up: createVersion6},
	{version: 7, name: "give member institutions their people, supporters and codes; members become representatives", up: createVersion7},
	{version: 8, name: "create the buckets of polls, their answers and the codes of genuine calls", up: createVersion8},
	{version: 9, name: "create the bucket of files uploaded to the platforms", up: createVersion9},
}

// createBuckets creates the buckets of schema version 1. The list is frozen:
// a bucket added later gets its own migration.
func createBuckets(tx *bbolt.Tx) error {
	for _, name := range []string{
		"meta", "contacts", "addresses", "refcodes", "institutions", "campaigns",
		"campaign_codes", "pledges", "signups", "counters", "sessions", "audit",
		"handled_updates", "handled_by_time",
	} {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("creating bucket %s: %w", name, err)
		}
	}
	return nil
}

// schemaVersion reads the version recorded in meta; 0 for a new file.
func schemaVersion(tx *bbolt.Tx) uint64 {
	b := tx.Bucket(bucketMeta)
	if b == nil {
		return 0
	}
	return btoi(b.Get(keySchemaVersion))
}

// migrate brings the file up to the last version of list. It writes nothing
// when the file is current, and applies every pending migration and the new
// version in one transaction, so a failure leaves the file as it was. It
// reports whether the file should now be compacted: a migration that asks
// for it ran on a file that was not new.
func (s *Store) migrate(list []migration) (compact bool, err error) {
	latest := list[len(list)-1].version
	var current uint64
	if err := s.view(func(tx *bbolt.Tx) error {
		current = schemaVersion(tx)
		return nil
	}); err != nil {
		return false, err
	}
	if current > latest {
		return false, fmt.Errorf("%w: the file is at version %d, this program knows up to %d: run a newer mobilise", ErrSchemaTooNew, current, latest)
	}
	if current == latest {
		return false, nil
	}
	for _, m := range list {
		compact = compact || (m.compact && m.version > current && current > 0)
	}
	return compact, s.update(func(tx *bbolt.Tx) error { return applyMigrations(tx, list) })
}

// applyMigrations runs, inside tx, the migrations of list above the file's
// version, recording the version after each.
func applyMigrations(tx *bbolt.Tx, list []migration) error {
	current := schemaVersion(tx)
	latest := list[len(list)-1].version
	if current > latest {
		return fmt.Errorf("%w: the file is at version %d, this program knows up to %d: run a newer mobilise", ErrSchemaTooNew, current, latest)
	}
	for _, m := range list {
		if m.version <= current {
			continue
		}
		if err := m.up(tx); err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
		if err := meta.Put(keySchemaVersion, itob(m.version)); err != nil {
			return fmt.Errorf("migration %d (%s): recording version: %w", m.version, m.name, err)
		}
	}
	return nil
}

// createOutboxBuckets creates the buckets of schema version 2: the outbox
// with its indexes, broadcasts, and reminders with their due-time index.
// The list is frozen like createBuckets'.
func createOutboxBuckets(tx *bbolt.Tx) error {
	for _, name := range []string{
		"outbox", "outbox_ids", "outbox_by_broadcast", "outbox_sent", "broadcasts", "reminders", "reminders_due",
	} {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("creating bucket %s: %w", name, err)
		}
	}
	return nil
}

// createVersion3 creates the buckets of schema version 3: the aliases of
// contacts merged by LinkAddresses, the ledger of bulk sends, and a bucket of
// link codes; the codes version 2 kept in meta (valid ten minutes) are dropped.
func createVersion3(tx *bbolt.Tx) error {
	for _, name := range []string{"aliases", "bulk_sends", "link_codes"} {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("creating bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket([]byte("meta"))
	var old [][]byte
	c := meta.Cursor()
	for k, _ := c.Seek([]byte("link_code:")); k != nil && bytes.HasPrefix(k, []byte("link_code:")); k, _ = c.Next() {
		old = append(old, bytes.Clone(k))
	}
	for _, k := range old {
		if err := meta.Delete(k); err != nil {
			return fmt.Errorf("dropping an old link code: %w", err)
		}
	}
	return nil
}

// migrateVersion4 moves to schema version 4: contacts are rewritten from
// JSON into their binary form, in a bucket made afresh with the same
// sequence, so its pages are packed; pledges and sign-ups lose the IDs their
// keys hold; and the audience counters are built from the contacts, pledges
// and sign-ups.
func migrateVersion4(tx *bbolt.Tx) error {
	contacts := tx.Bucket(bucketContacts)
	seq := contacts.Sequence()
	var keys, values [][]byte
	err := contacts.ForEach(func(k, v []byte) error {
		var old contactJSON3
		if err := json.Unmarshal(v, &old); err != nil {
			return fmt.Errorf("decoding contact %d: %w", btoi(k), err)
		}
		c := old.contact()
		c.ID = btoi(k)
		keys, values = append(keys, bytes.Clone(k)), append(values, encodeContact(&c))
		return nil
	})
	if err != nil {
		return err
	}
	if err := tx.DeleteBucket(bucketContacts); err != nil {
		return fmt.Errorf("dropping the JSON contacts: %w", err)
	}
	if contacts, err = tx.CreateBucket(bucketContacts); err != nil {
		return fmt.Errorf("creating the contacts bucket: %w", err)
	}
	contacts.FillPercent = fillOf(bucketContacts)
	if err := contacts.SetSequence(seq); err != nil {
		return err
	}
	for i, k := range keys {
		if err := contacts.Put(k, values[i]); err != nil {
			return fmt.Errorf("writing contact %d: %w", btoi(k), err)
		}
	}
	for _, name := range [][]byte{bucketPledges, bucketSignups} {
		if err := dropPairIDs(tx.Bucket(name)); err != nil {
			return fmt.Errorf("rewriting %s: %w", name, err)
		}
	}
	built, err := buildCounts(tx)
	if err != nil {
		return fmt.Errorf("counting the audiences: %w", err)
	}
	return replaceCounts(tx, built)
}

// contactJSON3 is a contact as versions 1 to 3 stored it, frozen here so
// the migration reads what they wrote whatever Contact becomes.
type contactJSON3 struct {
	ID               uint64                    `json:"id"`
	Addresses        []bot.Address             `json:"addresses"`
	Name             string                    `json:"name,omitempty"`
	Lang             string                    `json:"lang,omitempty"`
	Consent          bool                      `json:"consent,omitempty"`
	ConsentAt        time.Time                 `json:"consent_at,omitempty"`
	OnboardedAt      time.Time                 `json:"onboarded_at,omitempty"`
	Stopped          bool                      `json:"stopped,omitempty"`
	Governorate      string                    `json:"governorate,omitempty"`
	Role             Role                      `json:"role,omitempty"`
	InstitutionID    uint64                    `json:"institution_id,omitempty"`
	RefCode          string                    `json:"ref_code"`
	ReferredBy       uint64                    `json:"referred_by,omitempty"`
	Referrals        int                       `json:"referrals,omitempty"`
	Unreachable      map[bot.Address]time.Time `json:"unreachable,omitempty"`
	PreferredChannel bot.ChannelName           `json:"preferred_channel,omitempty"`
	CreatedAt        time.Time                 `json:"created_at"`
	SeenAt           time.Time                 `json:"seen_at,omitempty"`
}

// contact is the Contact old describes: the fields versions 1 to 3 knew.
func (old contactJSON3) contact() Contact {
	return Contact{
		ID: old.ID, Addresses: old.Addresses, Name: old.Name, Lang: old.Lang, Consent: old.Consent,
		ConsentAt: old.ConsentAt, OnboardedAt: old.OnboardedAt, Stopped: old.Stopped, Governorate: old.Governorate,
		Role: old.Role, InstitutionID: old.InstitutionID, RefCode: old.RefCode, ReferredBy: old.ReferredBy,
		Referrals: old.Referrals, Unreachable: old.Unreachable, PreferredChannel: old.PreferredChannel,
		CreatedAt: old.CreatedAt, SeenAt: old.SeenAt,
	}
}

// asJSON3 is c as versions 1 to 3 stored it; what they did not know is lost.
func asJSON3(c Contact) contactJSON3 {
	return contactJSON3{
		ID: c.ID, Addresses: c.Addresses, Name: c.Name, Lang: c.Lang, Consent: c.Consent,
		ConsentAt: c.ConsentAt, OnboardedAt: c.OnboardedAt, Stopped: c.Stopped, Governorate: c.Governorate,
		Role: c.Role, InstitutionID: c.InstitutionID, RefCode: c.RefCode, ReferredBy: c.ReferredBy,
		Referrals: c.Referrals, Unreachable: c.Unreachable, PreferredChannel: c.PreferredChannel,
		CreatedAt: c.CreatedAt, SeenAt: c.SeenAt,
	}
}

// dropPairIDs rewrites the pledges or sign-ups of b without "campaign_id"
// and "contact_id", which their keys hold.
func dropPairIDs(b *bbolt.Bucket) error {
	var keys, values [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var rec map[string]json.RawMessage
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("decoding %x: %w", k, err)
		}
		if _, ok := rec["campaign_id"]; !ok {
			if _, ok := rec["contact_id"]; !ok {
				return nil
			}
		}
		delete(rec, "campaign_id")
		delete(rec, "contact_id")
		lean, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		keys, values = append(keys, bytes.Clone(k)), append(values, lean)
		return nil
	})
	if err != nil {
		return err
	}
	for i, k := range keys {
		if err := b.Put(k, values[i]); err != nil {
			return err
		}
	}
	return nil
}
