package whatsapp

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"

	"mobilise/store/postgres/pgtest"
)

// TestCopyDeviceToPostgres checks that a device linked in whatsapp.db,
// with its Signal state, app state and LID map, is the device an instance
// on PostgreSQL opens after the copy, and that the file is left as it was.
func TestCopyDeviceToPostgres(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	url := pgtest.NewDatabase(t)

	_, err := CopyToPostgres(ctx, dir, url, nil)
	assert.Error(t, err, "no whatsapp.db")
	src, err := OpenDevice(ctx, dir, nil)
	require.NoError(t, err)
	require.NoError(t, src.Close())
	_, err = CopyToPostgres(ctx, dir, url, nil)
	assert.ErrorContains(t, err, "no number is linked")

	src, err = OpenDevice(ctx, dir, nil)
	require.NoError(t, err)
	pretendPaired(t, src, "970599000000")
	peer := "970599111111@s.whatsapp.net"
	chat := types.NewJID("970599111111", types.DefaultUserServer)
	lid := types.NewJID("123456789012345", types.HiddenUserServer)
	var hash [128]byte
	hash[0] = 7
	indexMAC, valueMAC := make([]byte, 32), make([]byte, 32)
	indexMAC[0], valueMAC[0] = 1, 2
	require.NoError(t, src.store.Identities.PutIdentity(ctx, peer, [32]byte{1, 2, 3}))
	require.NoError(t, src.store.Sessions.PutSession(ctx, peer, []byte("ratchet state")))
	pk, err := src.store.PreKeys.GenOnePreKey(ctx)
	require.NoError(t, err)
	require.NoError(t, src.store.ChatSettings.PutPinned(ctx, chat, true))
	require.NoError(t, src.store.LIDs.PutLIDMapping(ctx, lid, chat))
	require.NoError(t, src.store.AppState.PutAppStateVersion(ctx, "regular", 3, hash))
	require.NoError(t, src.store.AppState.PutAppStateMutationMACs(ctx, "regular", 3,
		[]store.AppStateMutationMAC{{IndexMAC: indexMAC, ValueMAC: valueMAC}}))
	want := *src.store
	require.NoError(t, src.Close())

	start := time.Now()
	res, err := CopyToPostgres(ctx, dir, url, nil)
	require.NoError(t, err)
	t.Logf("copied +%s: %d rows in %d tables in %s", res.PhoneNumber, res.Rows, res.Tables, time.Since(start).Round(time.Millisecond))
	assert.Equal(t, "970599000000", res.PhoneNumber)
	assert.GreaterOrEqual(t, res.Rows, 8, "device, identity, session, prekey, chat settings, LID, app state version and MAC")

	d, err := OpenPostgresDevice(ctx, url, nil)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, d.Close()) })
	require.True(t, d.Linked())
	assert.Equal(t, *want.ID, *d.store.ID)
	assert.Equal(t, want.RegistrationID, d.store.RegistrationID)
	assert.Equal(t, *want.NoiseKey.Priv, *d.store.NoiseKey.Priv)
	assert.Equal(t, *want.IdentityKey.Priv, *d.store.IdentityKey.Priv)
	assert.Equal(t, *want.SignedPreKey.Priv, *d.store.SignedPreKey.Priv)
	assert.Equal(t, want.AdvSecretKey, d.store.AdvSecretKey)
	sess, err := d.store.Sessions.GetSession(ctx, peer)
	require.NoError(t, err)
	assert.Equal(t, []byte("ratchet state"), sess)
	trusted, err := d.store.Identities.IsTrustedIdentity(ctx, peer, [32]byte{1, 2, 3})
	require.NoError(t, err)
	assert.True(t, trusted)
	got, err := d.store.PreKeys.GetPreKey(ctx, pk.KeyID)
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Equal(t, *pk.Priv, *got.Priv)
	settings, err := d.store.ChatSettings.GetChatSettings(ctx, chat)
	require.NoError(t, err)
	assert.True(t, settings.Pinned, "SQLite's integer booleans arrive as booleans")
	pn, err := d.store.LIDs.GetPNForLID(ctx, lid)
	require.NoError(t, err)
	assert.Equal(t, chat, pn)
	version, gotHash, err := d.store.AppState.GetAppStateVersion(ctx, "regular")
	require.NoError(t, err)
	assert.Equal(t, uint64(3), version)
	assert.Equal(t, hash, gotHash)
	mac, err := d.store.AppState.GetAppStateMutationMAC(ctx, "regular", indexMAC)
	require.NoError(t, err)
	assert.Equal(t, valueMAC, mac)

	_, err = CopyToPostgres(ctx, dir, url, nil)
	assert.ErrorIs(t, err, ErrPostgresLinked, "a device in PostgreSQL is not replaced")

	src, err = OpenDevice(ctx, dir, nil)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, src.Close()) })
	assert.Equal(t, "970599000000", src.PhoneNumber(), "whatsapp.db is left as it was")
}
