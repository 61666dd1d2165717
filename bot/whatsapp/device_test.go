package whatsapp

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
)

// pretendPaired saves d as pairing would, without a phone or network.
func pretendPaired(t *testing.T, d *Device, number string) {
	t.Helper()
	d.store.ID = &types.JID{User: number, Server: types.DefaultUserServer, Device: 7}
	d.store.Account = &waAdv.ADVSignedDeviceIdentity{
		Details:             []byte{1},
		AccountSignature:    make([]byte, 64),
		AccountSignatureKey: make([]byte, 32),
		DeviceSignature:     make([]byte, 64),
	}
	require.NoError(t, d.store.Save(context.Background()))
}

func TestOpenDevice(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	d, err := OpenDevice(ctx, dir, nil)
	require.NoError(t, err)
	assert.False(t, d.Linked())
	assert.Empty(t, d.PhoneNumber())

	info, err := os.Stat(filepath.Join(dir, "whatsapp.db"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "device keys are private")
	var mode string
	var fk, busy int
	require.NoError(t, d.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode))
	require.NoError(t, d.db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk))
	require.NoError(t, d.db.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy))
	assert.Equal(t, "wal", mode)
	assert.Equal(t, 1, fk)
	assert.Equal(t, 10000, busy)

	_, err = New(d)
	assert.ErrorIs(t, err, ErrNotLinked)

	noiseKey := *d.store.NoiseKey.Pub
	pretendPaired(t, d, "970599000000")
	require.NoError(t, d.Close())

	d, err = OpenDevice(ctx, dir, nil)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, d.Close()) })
	assert.True(t, d.Linked())
	assert.Equal(t, "970599000000", d.PhoneNumber())
	assert.Equal(t, noiseKey, *d.store.NoiseKey.Pub, "the same device comes back")

	c, err := New(d)
	require.NoError(t, err)
	assert.Equal(t, "https://wa.me/970599000000?text=start%20x", c.ShareLink("x"))
	assert.False(t, c.Connected())
}

func TestUnlinkDeletesDevice(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := OpenDevice(ctx, dir, nil)
	require.NoError(t, err)
	assert.ErrorIs(t, Unlink(ctx, d, nil), ErrNotLinked)

	pretendPaired(t, d, "970599000000")
	uc := &fakeUnlinker{connectErr: errors.New("network is unreachable")}
	require.NoError(t, unlink(ctx, d, uc, d.log, time.Millisecond))
	assert.False(t, d.Linked())
	assert.False(t, uc.loggedOut, "no logout without a connection")
	require.NoError(t, d.Close())

	d, err = OpenDevice(ctx, dir, nil)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, d.Close()) })
	assert.False(t, d.Linked(), "the keys are gone from whatsapp.db")
}

func TestUnlinkLogsOutWhenConnected(t *testing.T) {
	ctx := context.Background()
	d, err := OpenDevice(ctx, t.TempDir(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, d.Close()) })
	pretendPaired(t, d, "970599000000")

	uc := &fakeUnlinker{connected: true}
	require.NoError(t, unlink(ctx, d, uc, d.log, time.Millisecond))
	assert.True(t, uc.loggedOut)
	assert.True(t, uc.disconnected)
	assert.False(t, d.Linked())
}

type fakeUnlinker struct {
	connectErr                         error
	connected, loggedOut, disconnected bool
}

func (f *fakeUnlinker) Connect() error                       { return f.connectErr }
func (f *fakeUnlinker) Disconnect()                          { f.disconnected = true }
func (f *fakeUnlinker) WaitForConnection(time.Duration) bool { return f.connected }
func (f *fakeUnlinker) Logout(context.Context) error {
	f.loggedOut = true
	return nil
}

// fakeLinker plays the pairing side of whatsmeow from a script of QR channel items.
type fakeLinker struct {
	items      []whatsmeow.QRChannelItem
	handlers   []whatsmeow.EventHandler
	pairPhones []string
	connected  bool
}

func (f *fakeLinker) GetQRChannel(context.Context) (<-chan whatsmeow.QRChannelItem, error) {
	ch := make(chan whatsmeow.QRChannelItem, len(f.items))
	for _, it := range f.items {
		ch <- it
	}
	close(ch)
	return ch, nil
}

func (f *fakeLinker) Connect() error {
	// the login after pairing; buffered by link until success is read
	for _, h := range f.handlers {
		h(&events.Connected{})
	}
	f.connected = true
	return nil
}

func (f *fakeLinker) Disconnect() { f.connected = false }

func (f *fakeLinker) AddEventHandler(h whatsmeow.EventHandler) uint32 {
	f.handlers = append(f.handlers, h)
	return uint32(len(f.handlers))
}

func (f *fakeLinker) PairPhone(_ context.Context, phone string, _ bool, _ whatsmeow.PairClientType, _ string) (string, error) {
	f.pairPhones = append(f.pairPhones, phone)
	return "ABCD-EFGH", nil
}

func TestLink(t *testing.T) {
	code := func(c string) whatsmeow.QRChannelItem {
		return whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventCode, Code: c, Timeout: 60 * time.Second}
	}
	pairErr := errors.New("invalid device signature")
	cases := []struct {
		label      string
		phone      string
		items      []whatsmeow.QRChannelItem
		wantErr    error
		wantQRs    int
		wantPaired bool
	}{
		{
			label:   "QR codes refresh until scanned",
			items:   []whatsmeow.QRChannelItem{code("2@first"), code("2@second"), whatsmeow.QRChannelSuccess},
			wantQRs: 2,
		},
		{
			label:   "codes run out",
			items:   []whatsmeow.QRChannelItem{code("2@first"), whatsmeow.QRChannelTimeout},
			wantErr: ErrLinkTimeout, wantQRs: 1,
		},
		{
			label:   "channel closed without result",
			items:   []whatsmeow.QRChannelItem{code("2@first")},
			wantErr: ErrLinkTimeout, wantQRs: 1,
		},
		{
			label:   "pairing error",
			items:   []whatsmeow.QRChannelItem{code("2@first"), {Event: whatsmeow.QRChannelEventError, Error: pairErr}},
			wantErr: pairErr, wantQRs: 1,
		},
		{
			label:      "pairing code instead of QR",
			phone:      "+970 599 000000",
			items:      []whatsmeow.QRChannelItem{code("2@first"), code("2@second"), whatsmeow.QRChannelSuccess},
			wantPaired: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			lc := &fakeLinker{items: tc.items}
			var out bytes.Buffer
			err := link(context.Background(), lc, &out, tc.phone, slogDiscard(), time.Second)
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
			} else {
				assert.NoError(t, err)
			}
			assert.Equal(t, tc.wantQRs, bytes.Count(out.Bytes(), []byte("Scan this code")))
			if tc.wantPaired {
				assert.Equal(t, []string{tc.phone}, lc.pairPhones, "one pairing code for all QR rotations")
				assert.Contains(t, out.String(), "ABCD-EFGH")
			} else {
				assert.Empty(t, lc.pairPhones)
			}
			assert.False(t, lc.connected, "link disconnects when done")
		})
	}
}

func TestLinkRefusesWhenLinked(t *testing.T) {
	d, err := OpenDevice(context.Background(), t.TempDir(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, d.Close()) })
	pretendPaired(t, d, "970599000000")
	err = Link(context.Background(), d, &bytes.Buffer{}, "", nil)
	assert.ErrorIs(t, err, ErrAlreadyLinked)
}
