package store

import (
	"fmt"

	"go.etcd.io/bbolt"
)

// migration moves the schema from version-1 to version inside one write
// transaction.
type migration struct {
	version uint64
	name    string
	up      func(tx *bbolt.Tx) error
}

// migrations is the schema's history. Append only: never edit, reorder or
// remove a released entry. Each one needs a case in TestMigrations, and the
// schema in buckets.go changes with it.
var migrations = []migration{
	{version: 1, name: "create buckets", up: createBuckets},
	{version: 2, name: "create outbox, broadcast and reminder buckets", up: createOutboxBuckets},
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
// version in one transaction, so a failure leaves the file as it was.
func (s *Store) migrate(list []migration) error {
	latest := list[len(list)-1].version
	var current uint64
	if err := s.view(func(tx *bbolt.Tx) error {
		current = schemaVersion(tx)
		return nil
	}); err != nil {
		return err
	}
	if current > latest {
		return fmt.Errorf("%w: the file is at version %d, this program knows up to %d: run a newer mobilise", ErrSchemaTooNew, current, latest)
	}
	if current == latest {
		return nil
	}
	return s.update(func(tx *bbolt.Tx) error { return applyMigrations(tx, list) })
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
