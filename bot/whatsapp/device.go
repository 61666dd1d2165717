package whatsapp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
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
// whatsapp.db, or in the bot's PostgreSQL database. It holds at most one
// device; an unlinked Device has fresh keys that are only saved once
// pairing succeeds.
type Device struct {
	db        *sql.DB
	container *sqlstore.Container
	store     *store.Device
	log       *slog.Logger
	where     string // what Close names: the file, or "PostgreSQL"
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
	return &Device{db: db, container: container, store: dev, log: log, where: DBFile}, nil
}

// The device in PostgreSQL. When the bot keeps its state in PostgreSQL,
// several instances share the database and whichever holds the whatsapp
// lease connects, so the device keys and Signal sessions are kept there too,
// in whatsmeow's own tables: whatsmeow_device, whatsmeow_sessions and the
// others, all named whatsmeow_*, with their schema version in
// whatsmeow_version. whatsmeow creates and upgrades them (its sqlstore, the
// "postgres" dialect); the bot's golang-migrate schema (schema_migrations)
// never names them, so each upgrades on its own.
//
// The connection is pgx's database/sql driver, the driver the rest of the
// bot uses: whatsmeow only needs a *sql.DB and the dialect's name. Without
// sqlstore.PostgresArrayWrapper (a global whatsmeow leaves to lib/pq users)
// it reads several sessions one query at a time, which a bot's few sessions
// do not notice.

// upgradeLockKey is the advisory lock held while whatsmeow upgrades its
// tables: its upgrades take no lock of their own, and two instances
// starting together would both create the tables.
var upgradeLockKey = func() int64 {
	h := fnv.New64a()
	h.Write([]byte("mobilise whatsmeow upgrade"))
	return int64(h.Sum64())
}()

// OpenPostgresDevice opens the device kept in the PostgreSQL database at
// url (postgres://…), creating or upgrading whatsmeow's tables, and returns
// its first device, or a new unlinked one. Every instance on the database
// opens the same device. Close it when done.
func OpenPostgresDevice(ctx context.Context, url string, log *slog.Logger) (*Device, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, db, err := openPostgres(url)
	if err != nil {
		return nil, err
	}
	container := sqlstore.NewWithDB(db, "postgres", newWALogger(log, "sqlstore"))
	if err := upgradeLocked(ctx, cfg, container); err != nil {
		return nil, errors.Join(fmt.Errorf("whatsapp: upgrade the device tables in PostgreSQL: %w", err), db.Close())
	}
	dev, err := container.GetFirstDevice(ctx)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("whatsapp: read the device from PostgreSQL: %w", err), db.Close())
	}
	return &Device{db: db, container: container, store: dev, log: log, where: "the device in PostgreSQL"}, nil
}

// PostgresLinked reports whether the PostgreSQL database at url holds a
// linked device, without creating whatsmeow's tables in a database whose
// bot does not use WhatsApp.
func PostgresLinked(ctx context.Context, url string) (bool, error) {
	_, db, err := openPostgres(url)
	if err != nil {
		return false, err
	}
	var linked bool
	err = db.QueryRowContext(ctx, `SELECT to_regclass('whatsmeow_device') IS NOT NULL`).Scan(&linked)
	if err == nil && linked {
		err = db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM whatsmeow_device)`).Scan(&linked)
	}
	if err != nil {
		return false, errors.Join(fmt.Errorf("whatsapp: look for a device in PostgreSQL: %w", err), db.Close())
	}
	if err := db.Close(); err != nil {
		return false, fmt.Errorf("whatsapp: close PostgreSQL: %w", err)
	}
	return linked, nil
}

// openPostgres opens a small pool on url through pgx's database/sql
// driver, and returns it with url's configuration.
func openPostgres(url string) (*pgx.ConnConfig, *sql.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, nil, fmt.Errorf("whatsapp: the PostgreSQL URL: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	// one connection reads the socket's events while sends and receipts
	// write keys; the lock of an upgrade takes one more
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(2)
	// the server may end idle sessions (idle_session_timeout): give back
	// idle connections before that
	db.SetConnMaxIdleTime(time.Minute)
	return cfg, db, nil
}

// upgradeLocked runs whatsmeow's upgrade while holding upgradeLockKey on a
// connection of its own, outside the pool, so instances starting together
// upgrade once; closing that connection frees the lock, whatever happened.
func upgradeLocked(ctx context.Context, cfg *pgx.ConnConfig, container *sqlstore.Container) (err error) {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	defer func() { err = errors.Join(err, conn.Close(context.WithoutCancel(ctx))) }()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, upgradeLockKey); err != nil {
		return fmt.Errorf("waiting for another instance's upgrade: %w", err)
	}
	return container.Upgrade(ctx)
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

// Close closes whatsapp.db, or the connections to PostgreSQL.
func (d *Device) Close() error {
	if err := d.container.Close(); err != nil {
		return fmt.Errorf("whatsapp: close %s: %w", d.where, err)
	}
	return nil
}
