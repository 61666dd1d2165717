package whatsapp

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow/store/sqlstore/upgrades"

	"mobilise/store/postgres"
	"mobilise/store/postgres/pgtest"
)

// sqlDB opens url for the test's own queries, through the "pgx" driver
// device.go registers.
func sqlDB(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", url)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, db.Close()) })
	return db
}

// TestPostgresDeviceSharedByInstances checks that a device paired through
// one instance's container is the device a second instance opens from the
// same database: the same JID, the same keys, and the Signal state written
// through the first.
func TestPostgresDeviceSharedByInstances(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	// the bot opens its store, with its migrations, before the device
	st, err := postgres.Open(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, st.Close()) })

	linked, err := PostgresLinked(ctx, url)
	require.NoError(t, err)
	assert.False(t, linked)
	var tables int
	db := sqlDB(t, url)
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM pg_tables WHERE tablename LIKE 'whatsmeow%'`).Scan(&tables))
	assert.Zero(t, tables, "asking whether a device is linked creates no tables")

	a, err := OpenPostgresDevice(ctx, url, nil)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, a.Close()) })
	assert.False(t, a.Linked())
	_, err = New(a)
	assert.ErrorIs(t, err, ErrNotLinked)

	pretendPaired(t, a, "970599000000")
	peer := "970599111111@s.whatsapp.net"
	peerKey := [32]byte{1, 2, 3}
	require.NoError(t, a.store.Identities.PutIdentity(ctx, peer, peerKey))
	require.NoError(t, a.store.Sessions.PutSession(ctx, peer, []byte("ratchet state")))
	pk, err := a.store.PreKeys.GenOnePreKey(ctx)
	require.NoError(t, err)

	linked, err = PostgresLinked(ctx, url)
	require.NoError(t, err)
	assert.True(t, linked)

	// another instance, as it starts
	b, err := OpenPostgresDevice(ctx, url, nil)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, b.Close()) })
	require.True(t, b.Linked())
	assert.Equal(t, "970599000000", b.PhoneNumber())
	assert.Equal(t, *a.store.ID, *b.store.ID)
	assert.Equal(t, a.store.RegistrationID, b.store.RegistrationID)
	assert.Equal(t, *a.store.NoiseKey.Priv, *b.store.NoiseKey.Priv)
	assert.Equal(t, *a.store.NoiseKey.Pub, *b.store.NoiseKey.Pub)
	assert.Equal(t, *a.store.IdentityKey.Priv, *b.store.IdentityKey.Priv)
	assert.Equal(t, a.store.SignedPreKey.KeyID, b.store.SignedPreKey.KeyID)
	assert.Equal(t, *a.store.SignedPreKey.Priv, *b.store.SignedPreKey.Priv)
	assert.Equal(t, a.store.SignedPreKey.Signature, b.store.SignedPreKey.Signature)
	assert.Equal(t, a.store.AdvSecretKey, b.store.AdvSecretKey)
	assert.Equal(t, a.store.Account.AccountSignature, b.store.Account.AccountSignature)

	trusted, err := b.store.Identities.IsTrustedIdentity(ctx, peer, [32]byte{9})
	require.NoError(t, err)
	assert.False(t, trusted, "the peer's identity written by the first instance is known to the second")
	sess, err := b.store.Sessions.GetSession(ctx, peer)
	require.NoError(t, err)
	assert.Equal(t, []byte("ratchet state"), sess)
	got, err := b.store.PreKeys.GetPreKey(ctx, pk.KeyID)
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Equal(t, *pk.Priv, *got.Priv)

	c, err := New(b)
	require.NoError(t, err)
	assert.Equal(t, "https://wa.me/970599000000?text=start%20x", c.ShareLink("x"))

	// unlinking on one instance removes the device for all
	require.NoError(t, unlink(ctx, b, &fakeUnlinker{connectErr: errors.New("network is unreachable")}, b.log, time.Millisecond))
	linked, err = PostgresLinked(ctx, url)
	require.NoError(t, err)
	assert.False(t, linked)
	d, err := OpenPostgresDevice(ctx, url, nil)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, d.Close()) })
	assert.False(t, d.Linked())
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM whatsmeow_sessions`).Scan(&tables))
	assert.Zero(t, tables, "the device's sessions go with it")
}

// TestPostgresDeviceTablesBesideTheBots checks that whatsmeow's tables and
// version sit beside the bot's schema without touching it: each upgrades
// on its own, and the bot's store opens again over them.
func TestPostgresDeviceTablesBesideTheBots(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	st, err := postgres.Open(ctx, url)
	require.NoError(t, err)
	require.NoError(t, st.Close())
	db := sqlDB(t, url)
	botTables := tableNames(t, db)
	require.Contains(t, botTables, "schema_migrations")

	d, err := OpenPostgresDevice(ctx, url, nil)
	require.NoError(t, err)
	require.NoError(t, d.Close())
	var added []string
	for _, name := range tableNames(t, db) {
		if !strings.HasPrefix(name, "whatsmeow_") {
			assert.Contains(t, botTables, name, "only whatsmeow_* tables are added")
			continue
		}
		added = append(added, name)
		assert.NotContains(t, botTables, name, "no bot table has whatsmeow's name")
	}
	assert.Contains(t, added, "whatsmeow_device")
	assert.Contains(t, added, "whatsmeow_version")
	t.Logf("whatsmeow's tables: %d (%s)", len(added), strings.Join(added, ", "))

	var version, n int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT version FROM whatsmeow_version`).Scan(&version))
	assert.Equal(t, len(upgrades.Table), version, "whatsmeow's schema is up to date")
	require.NoError(t, db.QueryRowContext(ctx, `SELECT version FROM schema_migrations`).Scan(&n))
	assert.Equal(t, postgres.SchemaVersion, n, "the bot's version is untouched")

	// both open again, in either order
	st, err = postgres.Open(ctx, url)
	require.NoError(t, err)
	require.NoError(t, st.Close())
	d, err = OpenPostgresDevice(ctx, url, nil)
	require.NoError(t, err)
	require.NoError(t, d.Close())
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM whatsmeow_version`).Scan(&n))
	assert.Equal(t, 1, n)
}

// TestPostgresDeviceInstancesStartTogether checks that instances starting
// at once on a new database create whatsmeow's tables once, under the
// upgrade's lock, and all open the device.
func TestPostgresDeviceInstancesStartTogether(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	const instances = 4
	var wg sync.WaitGroup
	errs := make([]error, instances)
	start := time.Now()
	for i := range instances {
		wg.Go(func() {
			d, err := OpenPostgresDevice(ctx, url, nil)
			if err == nil {
				err = d.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	t.Logf("%d instances opened the device on a new database in %s", instances, time.Since(start).Round(time.Millisecond))
	for i, err := range errs {
		assert.NoError(t, err, "instance %d", i)
	}
	var n int
	require.NoError(t, sqlDB(t, url).QueryRowContext(ctx, `SELECT count(*) FROM whatsmeow_version`).Scan(&n))
	assert.Equal(t, 1, n)
}

func tableNames(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`)
	require.NoError(t, err)
	var names []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		names = append(names, name)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	return names
}
