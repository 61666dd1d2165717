package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

// openRawBolt opens a bbolt file without the store, as an older program
// would have left it.
func openRawBolt(t *testing.T, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	return db
}

func TestMigrations(t *testing.T) {
	// each case sets up a file at version-1 (after the earlier migrations)
	// with data, and checks the file after its migration ran
	cases := []struct {
		version uint64
		before  func(t *testing.T, tx *bbolt.Tx)
		after   func(t *testing.T, tx *bbolt.Tx)
	}{
		{
			version: 1,
			before:  func(*testing.T, *bbolt.Tx) {},
			after: func(t *testing.T, tx *bbolt.Tx) {
				for _, name := range []string{
					"meta", "contacts", "addresses", "refcodes", "institutions", "campaigns",
					"campaign_codes", "pledges", "signups", "counters", "sessions", "audit",
					"handled_updates", "handled_by_time",
				} {
					assert.NotNil(t, tx.Bucket([]byte(name)), "bucket %s", name)
				}
			},
		},
		{
			version: 2,
			before: func(t *testing.T, tx *bbolt.Tx) {
				require.NoError(t, tx.Bucket(bucketContacts).Put(itob(1), []byte(`{"id":1}`)))
			},
			after: func(t *testing.T, tx *bbolt.Tx) {
				for _, name := range []string{
					"outbox", "outbox_ids", "outbox_by_broadcast", "outbox_sent", "broadcasts", "reminders", "reminders_due",
				} {
					assert.NotNil(t, tx.Bucket([]byte(name)), "bucket %s", name)
				}
				assert.NotNil(t, tx.Bucket(bucketContacts).Get(itob(1)), "earlier data kept")
			},
		},
	}
	require.Len(t, cases, len(migrations), "each migration needs a test case")

	for i, m := range migrations {
		require.Equal(t, uint64(i+1), m.version, "versions count up from 1")
	}
	for i, tc := range cases {
		m := migrations[i]
		require.Equal(t, m.version, tc.version)
		t.Run(m.name, func(t *testing.T) {
			db := openRawBolt(t, filepath.Join(t.TempDir(), "old.db"))
			defer func() { require.NoError(t, db.Close()) }()
			if i > 0 {
				require.NoError(t, db.Update(func(tx *bbolt.Tx) error { return applyMigrations(tx, migrations[:i]) }))
			}
			require.NoError(t, db.Update(func(tx *bbolt.Tx) error {
				tc.before(t, tx)
				return applyMigrations(tx, migrations[:i+1])
			}))
			require.NoError(t, db.View(func(tx *bbolt.Tx) error {
				assert.Equal(t, m.version, schemaVersion(tx))
				tc.after(t, tx)
				return nil
			}))
		})
	}
}

func TestOpenMigratesOlderFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mobilise.db")
	// version 0: a bbolt file with none of the store's buckets
	db := openRawBolt(t, path)
	require.NoError(t, db.Close())

	s, err := Open(path)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	require.NoError(t, s.DB().View(func(tx *bbolt.Tx) error {
		assert.Equal(t, migrations[len(migrations)-1].version, schemaVersion(tx))
		return nil
	}))
	_, _, err = s.EnsureContact("console:alice", "Alice", "en")
	require.NoError(t, err)
}

func TestMigrateRunsOnlyPendingInOneTransaction(t *testing.T) {
	var ran []uint64
	step := func(v uint64, err error) migration {
		return migration{version: v, name: "step", up: func(tx *bbolt.Tx) error {
			ran = append(ran, v)
			if _, berr := tx.CreateBucketIfNotExists([]byte{byte('a' + v)}); berr != nil {
				return berr
			}
			return err
		}}
	}
	s, _ := openTestStore(t)
	// these steps stand for the whole history: start from version 1
	require.NoError(t, s.DB().Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, itob(1))
	}))

	require.NoError(t, s.migrate([]migration{step(1, nil), step(2, nil)}))
	assert.Equal(t, []uint64{2}, ran)

	ran = nil
	require.NoError(t, s.migrate([]migration{step(1, nil), step(2, nil), step(3, nil)}))
	assert.Equal(t, []uint64{3}, ran, "only the migration above the file's version runs")

	ran = nil
	require.NoError(t, s.migrate([]migration{step(1, nil), step(2, nil), step(3, nil)}))
	assert.Empty(t, ran, "a current file is not written")

	// a failing migration leaves nothing of the earlier ones in the same run
	boom := errors.New("boom")
	ran = nil
	err := s.migrate([]migration{step(1, nil), step(2, nil), step(3, nil), step(4, nil), step(5, boom)})
	require.ErrorIs(t, err, boom)
	assert.Equal(t, []uint64{4, 5}, ran)
	require.NoError(t, s.DB().View(func(tx *bbolt.Tx) error {
		assert.Equal(t, uint64(3), schemaVersion(tx))
		assert.Nil(t, tx.Bucket([]byte{'a' + 4}), "bucket of migration 4 rolled back")
		return nil
	}))
	// put the real schema version back for the end-of-test check
	require.NoError(t, s.DB().Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, itob(migrations[len(migrations)-1].version))
	}))
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mobilise.db")
	s, err := Open(path)
	require.NoError(t, err)
	require.NoError(t, s.DB().Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, itob(99))
	}))
	require.NoError(t, s.Close())
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	_, err = Open(path)
	require.ErrorIs(t, err, ErrSchemaTooNew)
	assert.Contains(t, err.Error(), "version 99")
	assert.Contains(t, err.Error(), "newer")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(before, after), "file content changed")

	// and the file is not left locked
	db := openRawBolt(t, path)
	require.NoError(t, db.Close())
}
