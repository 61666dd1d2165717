package whatsapp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/store/sqlstore"

	// the pure-Go SQLite driver, registered as "sqlite": no cgo in the build
	_ "modernc.org/sqlite"
)

// DBFile is the name of the SQLite file, in the data directory, that holds
// the WhatsApp device keys and Signal sessions.
const DBFile = "whatsapp.db"

// ErrNotLinked means no WhatsApp account is paired with this bot yet:
// run `mobilise whatsapp link`.
var ErrNotLinked = errors.New("whatsapp: no linked account (run `mobilise whatsapp link`)")

// ErrAlreadyLinked is returned by Link when a session exists: unlink it first.
var ErrAlreadyLinked = errors.New("whatsapp: an account is already linked (run `mobilise whatsapp unlink` first)")

// Device is the WhatsApp identity of the bot: the keys whatsmeow keeps in
// whatsapp.db. It holds at most one device; an unlinked Device has fresh
// keys that are only saved once pairing succeeds.
type Device struct {
	db        *sql.DB
	container *sqlstore.Container
	store     *store.Device
	log       *slog.Logger
}

// OpenDevice opens (creating if needed) whatsapp.db in dataDir and returns
// its first device, or a new unlinked one. Close it when done.
func OpenDevice(ctx context.Context, dataDir string, log *slog.Logger) (*Device, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("whatsapp: create data dir: %w", err)
	}
	path := filepath.Join(dataDir, DBFile)
	// the file holds private keys: create it owner-only; SQLite gives the
	// -wal and -shm files the same mode
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("whatsapp: create %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("whatsapp: create %s: %w", path, err)
	}
	dsn := "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("whatsapp: open %s: %w", path, err)
	}
	container := sqlstore.NewWithDB(db, "sqlite", newWALogger(log, "sqlstore"))
	if err := container.Upgrade(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("whatsapp: upgrade %s: %w", path, err), db.Close())
	}
	dev, err := container.GetFirstDevice(ctx)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("whatsapp: read device from %s: %w", path, err), db.Close())
	}
	return &Device{db: db, container: container, store: dev, log: log}, nil
}

// Linked reports whether the device is paired with a WhatsApp account.
func (d *Device) Linked() bool { return d.store.ID != nil }

// PhoneNumber returns the linked account's number in international form
// without "+", or "" when not linked.
func (d *Device) PhoneNumber() string {
	if d.store.ID == nil {
		return ""
	}
	return d.store.ID.User
}

// Close closes whatsapp.db.
func (d *Device) Close() error {
	if err := d.container.Close(); err != nil {
		return fmt.Errorf("whatsapp: close %s: %w", DBFile, err)
	}
	return nil
}
