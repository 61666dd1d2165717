package main

import (
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"

	"mobilise/bot"
	"mobilise/bot/whatsapp"
	"mobilise/store"
	"mobilise/store/postgres/pgtest"
)

// saveLinkedDevice saves a device with fresh keys into whatsmeow's store
// in db, as pairing with number would, without a phone or network.
func saveLinkedDevice(t *testing.T, driver, dsn, dialect, number string) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open(driver, dsn)
	require.NoError(t, err)
	container := sqlstore.NewWithDB(db, dialect, nil)
	t.Cleanup(func() { assert.NoError(t, container.Close()) })
	require.NoError(t, container.Upgrade(ctx))
	dev := container.NewDevice()
	dev.ID = &types.JID{User: number, Server: types.DefaultUserServer, Device: 7}
	dev.Account = &waAdv.ADVSignedDeviceIdentity{
		Details:             []byte{1},
		AccountSignature:    make([]byte, 64),
		AccountSignatureKey: make([]byte, 32),
		DeviceSignature:     make([]byte, 64),
	}
	require.NoError(t, dev.Save(ctx))
}

// TestWhatsAppCommandOnPostgres checks `mobilise whatsapp` with
// MOBILISE_STORE or --store: the device is looked for, and kept, in the
// database, where an instance starting on it opens it; nothing is written
// to the data directory.
func TestWhatsAppCommandOnPostgres(t *testing.T) {
	url := pgtest.NewDatabase(t)
	data := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"MOBILISE_DATA": data, "MOBILISE_STORE": url}
	cfg := defaultConfig()
	cfg.DataDir, cfg.Store = data, url
	linked, err := whatsAppLinked(t.Context(), cfg)
	require.NoError(t, err)
	assert.False(t, linked)

	res := runMain(t, t.Context(), []string{"whatsapp", "status"}, env, "")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "no WhatsApp number is linked")
	assert.NotContains(t, res.stdout, "copy it into PostgreSQL")
	_, err = os.Stat(filepath.Join(data, "whatsapp.db"))
	assert.ErrorIs(t, err, os.ErrNotExist, "on PostgreSQL there is no whatsapp.db")

	saveLinkedDevice(t, "pgx", url, "postgres", "970599000000")
	linked, err = whatsAppLinked(t.Context(), cfg)
	require.NoError(t, err)
	assert.True(t, linked)
	res = runMain(t, t.Context(), []string{"whatsapp", "status"}, env, "")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "linked to +970599000000")
	res = runMain(t, t.Context(), []string{"whatsapp", "status", "--store", url}, map[string]string{"MOBILISE_DATA": data}, "")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "linked to +970599000000", "--store as well as MOBILISE_STORE")

	// what serve opens on each of two instances
	for range 2 {
		d, err := openWhatsAppDevice(t.Context(), cfg, slog.New(slog.DiscardHandler))
		require.NoError(t, err)
		assert.True(t, d.Linked())
		assert.Equal(t, "970599000000", d.PhoneNumber())
		require.NoError(t, d.Close())
	}
	_, err = os.Stat(filepath.Join(data, "whatsapp.db"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	res = runMain(t, t.Context(), []string{"whatsapp", "link"}, env, "")
	assert.Equal(t, 1, res.code)
	assert.Contains(t, res.stderr, "already linked", "link refuses over the device in PostgreSQL")

	res = runMain(t, t.Context(), []string{"whatsapp", "status", "--store", "mysql://db/x"}, nil, "")
	assert.Equal(t, 2, res.code)
	assert.Contains(t, res.stderr, "want a postgres:// URL")
}

// TestWhatsAppCopyToPostgres checks `mobilise whatsapp copy`: the number
// linked in whatsapp.db is then the one on PostgreSQL, a second copy is
// refused, and status on PostgreSQL points at the copy while the database
// has no device but the file has one.
func TestWhatsAppCopyToPostgres(t *testing.T) {
	url := pgtest.NewDatabase(t)
	data := t.TempDir()
	env := map[string]string{"MOBILISE_DATA": data, "MOBILISE_STORE": url}

	res := runMain(t, t.Context(), []string{"whatsapp", "copy"}, map[string]string{"MOBILISE_DATA": data}, "")
	assert.Equal(t, 2, res.code, "copy needs the database")
	assert.Contains(t, res.stderr, "--store")

	file := filepath.Join(data, "whatsapp.db")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	saveLinkedDevice(t, "sqlite", "file:"+file+"?_pragma=foreign_keys(1)", "sqlite", "970599000000")

	res = runMain(t, t.Context(), []string{"whatsapp", "status"}, env, "")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "no WhatsApp number is linked")
	assert.Contains(t, res.stdout, "mobilise whatsapp copy", "the number in whatsapp.db is pointed at")

	res = runMain(t, t.Context(), []string{"whatsapp", "copy"}, env, "")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "copied +970599000000")
	t.Logf("%s", res.stdout)

	res = runMain(t, t.Context(), []string{"whatsapp", "status"}, env, "")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "linked to +970599000000")

	res = runMain(t, t.Context(), []string{"whatsapp", "copy"}, env, "")
	assert.Equal(t, 1, res.code)
	assert.Contains(t, res.stderr, "holds a linked device already")

	res = runMain(t, t.Context(), []string{"whatsapp", "status"}, map[string]string{"MOBILISE_DATA": data}, "")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "linked to +970599000000", "whatsapp.db is left as it was")
}

// TestMigrateAgainKeepsTheWhatsAppDevice follows the move to PostgreSQL
// with the number copied between the first `mobilise migrate` and the last:
// copying the bot's data afresh leaves whatsmeow's tables alone.
func TestMigrateAgainKeepsTheWhatsAppDevice(t *testing.T) {
	url := pgtest.NewDatabase(t)
	data := dataWithOnePerson(t)
	file := filepath.Join(data, "whatsapp.db")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	saveLinkedDevice(t, "sqlite", "file:"+file+"?_pragma=foreign_keys(1)", "sqlite", "970599000000")
	env := map[string]string{"MOBILISE_DATA": data, "MOBILISE_STORE": url}

	res := runMain(t, t.Context(), []string{"migrate"}, env, "")
	require.Equal(t, 0, res.code, res.stderr)
	res = runMain(t, t.Context(), []string{"whatsapp", "copy"}, env, "")
	require.Equal(t, 0, res.code, res.stderr)
	res = runMain(t, t.Context(), []string{"migrate"}, env, "")
	require.Equal(t, 0, res.code, "the copy untouched since: copied afresh\n%s", res.stderr)
	assert.Contains(t, res.stdout, "every count matches")

	res = runMain(t, t.Context(), []string{"whatsapp", "status"}, env, "")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "linked to +970599000000", "the device is still in PostgreSQL")
	d, err := openWhatsAppDevice(t.Context(), Config{DataDir: data, Store: url}, slog.New(slog.DiscardHandler))
	require.NoError(t, err, "whatsmeow's version table is intact: no upgrade is run again over its tables")
	assert.True(t, d.Linked())
	require.NoError(t, d.Close())
}

// TestMigrateNamesOnlyALinkedWhatsAppFile checks that migrate points at
// whatsapp copy when whatsapp.db beside the file holds a linked number,
// and says nothing of a session file with none.
func TestMigrateNamesOnlyALinkedWhatsAppFile(t *testing.T) {
	url := pgtest.NewDatabase(t)
	data := dataWithOnePerson(t)
	d, err := whatsapp.OpenDevice(t.Context(), data, nil)
	require.NoError(t, err)
	require.False(t, d.Linked())
	require.NoError(t, d.Close())
	env := map[string]string{"MOBILISE_DATA": data, "MOBILISE_STORE": url}

	res := runMain(t, t.Context(), []string{"migrate"}, env, "")
	require.Equal(t, 0, res.code, res.stderr)
	assert.NotContains(t, res.stdout, "whatsapp copy", "no number is linked in the file")

	saveLinkedDevice(t, "sqlite", "file:"+filepath.Join(data, "whatsapp.db")+"?_pragma=foreign_keys(1)", "sqlite", "970599000000")
	res = runMain(t, t.Context(), []string{"migrate"}, env, "")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "mobilise whatsapp copy --data "+data)
}

// TestBotOnPostgresPointsAtWhatsAppFile checks that a bot started on
// PostgreSQL, whose data directory still holds a linked whatsapp.db while
// the database has no device, says how to bring the number along, and
// runs without WhatsApp rather than with the file.
func TestBotOnPostgresPointsAtWhatsAppFile(t *testing.T) {
	url := pgtest.NewDatabase(t)
	data := t.TempDir()
	file := filepath.Join(data, "whatsapp.db")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	saveLinkedDevice(t, "sqlite", "file:"+file+"?_pragma=foreign_keys(1)", "sqlite", "970599000000")

	res := runMain(t, t.Context(), nil, map[string]string{"MOBILISE_DATA": data, "MOBILISE_STORE": url}, onboarding)
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stderr, "mobilise whatsapp copy")
	assert.Contains(t, res.stdout, "< ", "the terminal chat ran")
	linked, err := whatsapp.PostgresLinked(t.Context(), url)
	require.NoError(t, err)
	assert.False(t, linked, "nothing is copied behind the admin's back")
}

// TestWhatsAppLinkedReportsAFailedLook checks that a look for the device
// in PostgreSQL that fails, the database answering, is an error and not
// "no number is linked": read as that, an instance would start without
// WhatsApp, or in console mode when it has no Telegram token, and no one
// would hear why.
func TestWhatsAppLinkedReportsAFailedLook(t *testing.T) {
	url := pgtest.NewDatabase(t)
	db, err := sql.Open("pgx", url)
	require.NoError(t, err)
	defer db.Close()
	// a device table that cannot be read
	_, err = db.Exec(`CREATE VIEW whatsmeow_device AS SELECT g FROM generate_series(0, 1) g WHERE 1 / g > 0`)
	require.NoError(t, err)
	cfg := defaultConfig()
	cfg.DataDir, cfg.Store = t.TempDir(), url
	linked, err := whatsAppLinked(t.Context(), cfg)
	require.Error(t, err)
	assert.False(t, linked)
	t.Logf("reported: %v", err)
}

// dataWithOnePerson is a data directory whose bbolt file holds one person.
func dataWithOnePerson(t *testing.T) string {
	t.Helper()
	data := t.TempDir()
	st, err := store.Open(filepath.Join(data, "mobilise.db"))
	require.NoError(t, err)
	_, _, err = st.EnsureContact(t.Context(), bot.Address{Channel: bot.Telegram, ID: "1"}, "a", "ar")
	require.NoError(t, err)
	require.NoError(t, st.Close())
	return data
}
