package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Errors about the database file itself, returned by Open and wrapped with
// the path and the cause; callers test for them with errors.Is.
var (
	// ErrCorrupt means the file exists but is not a readable bbolt database:
	// garbage, truncated, or damaged. Open never repairs or replaces it.
	ErrCorrupt = errors.New("database file is corrupt, truncated or not a bbolt file")
	// ErrInUse means another process holds the database's lock.
	ErrInUse = errors.New("database is in use by another process")
	// ErrSchemaTooNew means the file was written by a newer program whose
	// migrations this one does not know.
	ErrSchemaTooNew = errors.New("database schema is newer than this program")
	// ErrAddressTaken means an address is already another contact's.
	ErrAddressTaken = errors.New("address belongs to another contact")
)

// lockTimeout bounds the wait for the file lock, so a second process fails
// fast instead of hanging.
const lockTimeout = time.Second

// Store is the bot's bbolt database. Its methods are safe for concurrent use.
type Store struct {
	db   *bbolt.DB
	path string
	now  func() time.Time
	// reads and writes count transactions for TxStats
	reads, writes atomic.Uint64
	shared        committer
}

type options struct {
	now        func() time.Time
	batchDelay time.Duration
}

// Option configures Open.
type Option func(*options)

// WithNow sets the clock for the times the store stamps itself (CreatedAt,
// SeenAt, pledge and sign-up times left zero, audit times). Default time.Now.
func WithNow(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithBatchDelay sets how long a shared commit (the writes on the hot path:
// a message's unit of work, pledges, sign-ups, contacts, sessions, the
// outbox's records of what was sent) waits for more writers to join it
// before it starts. The default is not to wait: writers that arrive while
// a commit is under way share the next one anyway, so only a lone write
// would pay for waiting, and there is no one to share with.
func WithBatchDelay(d time.Duration) Option { return func(o *options) { o.batchDelay = d } }

// Open opens or creates the database at path, creating its directory (0700)
// and file (0600) if missing, and applies pending migrations in one
// transaction. A file that is not a sound bbolt database gives an error
// wrapping ErrCorrupt and is left exactly as it was; a file locked by another
// process gives ErrInUse after a second; a file from a newer program gives
// ErrSchemaTooNew.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("opening store: %w", err)
	}
	if err := preflight(path); err != nil {
		return nil, openError(path, err)
	}
	db, err := openBolt(path, &bbolt.Options{Timeout: lockTimeout})
	if err != nil {
		return nil, openError(path, err)
	}
	s := &Store{db: db, path: path, now: o.now}
	s.shared.delay = o.batchDelay
	compact, err := s.migrate(migrations)
	if err != nil {
		return nil, errors.Join(openError(path, err), db.Close())
	}
	if compact {
		if err := s.compactAfterMigration(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// compactAfterMigration compacts the file once a migration has rewritten
// most of it, and opens it again: until then the file keeps the size of its
// old layout, the old pages free. A failure leaves the migrated file as it
// is, sound but large.
func (s *Store) compactAfterMigration() error {
	if err := s.db.Close(); err != nil {
		return openError(s.path, err)
	}
	if _, err := Compact(s.path); err != nil {
		return fmt.Errorf("opening store %s: the migration is done; compacting the file afterwards: %w (free some disk space and run mobilise compact)", s.path, err)
	}
	db, err := openBolt(s.path, &bbolt.Options{Timeout: lockTimeout})
	if err != nil {
		return openError(s.path, err)
	}
	s.db = db
	return nil
}

// openError words a failure to open so the person running the bot knows what
// to do next.
func openError(path string, err error) error {
	switch {
	case errors.Is(err, ErrCorrupt):
		return fmt.Errorf("opening store %s: %w; the file was left untouched: move it aside and restore a copy made with `mobilise backup FILE`", path, err)
	case errors.Is(err, ErrInUse):
		return fmt.Errorf("opening store %s: %w (no lock within %s): stop the other mobilise first", path, err, lockTimeout)
	default:
		return fmt.Errorf("opening store %s: %w", path, err)
	}
}

// preflight checks an existing file read-only before bbolt opens it for
// writing: bbolt maps the file and would fault (SIGBUS) reading pages past
// the end of a truncated file, and a writable open may write to it.
// An empty file is refused too: bbolt would take it for a new database, but
// a database truncated to nothing must not start the bot afresh. Last,
// checkFile checks its pages and records.
func preflight(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.IsDir():
		return fmt.Errorf("%s is a directory", path)
	case fi.Size() == 0:
		return fmt.Errorf("%w: the file is empty (delete it only if this is a new installation)", ErrCorrupt)
	}
	db, err := openBolt(path, &bbolt.Options{ReadOnly: true, Timeout: lockTimeout})
	if err != nil {
		return err
	}
	var need int64
	err = db.View(func(tx *bbolt.Tx) error {
		need = tx.Size()
		return nil
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if fi.Size() < need {
		return fmt.Errorf("%w: file is %d bytes but its pages reach byte %d", ErrCorrupt, fi.Size(), need)
	}
	return checkFile(path)
}

// openBolt opens with bbolt and sorts its errors into ErrCorrupt and ErrInUse.
// bbolt panics on some damaged pages; that is a corrupt file too (the
// half-opened handle is lost, which matters little as the program stops).
func openBolt(path string, o *bbolt.Options) (db *bbolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: %v", ErrCorrupt, r)
		}
	}()
	db, err = bbolt.Open(path, 0o600, o)
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, berrors.ErrTimeout):
		return nil, ErrInUse
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch),
		errors.Is(err, berrors.ErrChecksum),
		// bbolt has no sentinel for a file shorter than its two meta pages
		strings.Contains(err.Error(), "file size too small"):
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	default:
		return nil, err
	}
}

// Close closes the database. Calls in flight finish first.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("closing store %s: %w", s.path, err)
	}
	return nil
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// DB returns the underlying bbolt handle. It is an escape hatch for store
// code in this package's own files and for maintenance tools; everything
// else goes through the typed methods, which keep indexes and counters in
// step with the records.
func (s *Store) DB() *bbolt.DB { return s.db }

// view runs fn in a read transaction. bbolt panics on some damaged pages
// rather than returning an error; view turns that into an error wrapping
// ErrCorrupt, so a damaged file stops an operation, not the process.
func (s *Store) view(fn func(tx *bbolt.Tx) error) (err error) {
	s.reads.Add(1)
	defer recoverCorrupt(&err)
	return s.db.View(fn)
}

// update runs fn in a write transaction, turning a panic on a damaged page
// into an error wrapping ErrCorrupt as view does.
func (s *Store) update(fn func(tx *bbolt.Tx) error) error {
	s.writes.Add(1)
	return s.commit(fn)
}

// commit is update without counting: the write transaction under every
// other kind, its buckets packed as fillOf says.
func (s *Store) commit(fn func(tx *bbolt.Tx) error) (err error) {
	defer recoverCorrupt(&err)
	return s.db.Update(func(tx *bbolt.Tx) error {
		packBuckets(tx)
		return fn(tx)
	})
}

// batch runs fn in a write transaction shared with other writers
// (sharedUpdate: fn may run more than once, so it must be idempotent), as
// bbolt's Batch does but without waiting for company.
func (s *Store) batch(fn func(tx *bbolt.Tx) error) error { return s.sharedUpdate(fn) }

// TxStats counts the transactions a Store ran since it was opened, as its
// callers see them: a call that shared a commit with others (writeBatch,
// InSharedTx) counts once for each caller.
type TxStats struct {
	// Reads are read transactions.
	Reads uint64
	// Writes are write transactions.
	Writes uint64
}

// TxStats returns how many transactions the store has run so far; the
// difference of two readings is what happened between them.
func (s *Store) TxStats() TxStats {
	return TxStats{Reads: s.reads.Load(), Writes: s.writes.Load()}
}

// recoverCorrupt turns a panic inside bbolt into an error wrapping ErrCorrupt.
func recoverCorrupt(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: %v", ErrCorrupt, r)
	}
}

// PanicError is the error for a panic recovered while running code inside
// a transaction, such as a whole chat turn in InTx. Called from the
// deferred function that recovered r, it looks at the stack that
// panicked: a panic raised in bbolt's own code means a damaged page and
// wraps ErrCorrupt, so the bot stops cleanly; any other is a fault of the
// program, reported with its stack.
func PanicError(r any) error {
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	panicking := false
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic":
			panicking = true
		case panicking && !strings.HasPrefix(f.Function, "runtime."):
			// the frame that panicked, or faulted
			if strings.HasPrefix(f.Function, "go.etcd.io/bbolt.") || strings.HasPrefix(f.Function, "go.etcd.io/bbolt/") {
				return fmt.Errorf("%w: %v", ErrCorrupt, r)
			}
			more = false
		}
		if !more {
			break
		}
	}
	return fmt.Errorf("unexpected fault: %v\n%s", r, debug.Stack())
}

// stamp returns the store's clock reading in UTC.
func (s *Store) stamp() time.Time { return s.now().UTC() }
