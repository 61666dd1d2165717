package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"go.etcd.io/bbolt"
)

// Backups are compacted copies (compact.go): they hold the live records and
// nothing that was deleted before the backup was made. A copy is made in
// two steps, so that nothing outside the store can keep a transaction open:
//
//  1. one read transaction copies the file's pages (tx.WriteTo) into a
//     private temporary file beside the database, as fast as the local disk
//     goes; a read transaction open for long would stall the writers, as
//     bbolt cannot grow its memory map under an open reader;
//  2. bbolt's Compact copies the live records of that file into the backup,
//     with no transaction of the live database open.
//
// The temporary files are named after the database with snapshotInfix, and
// removed as soon as they are no longer needed; RemoveStaleSnapshots removes
// those a crash left behind.

// snapshotInfix names the temporary copies beside the database.
const snapshotInfix = ".snapshot-"

// Snapshot returns a compacted copy of the database, opened for reading from
// its start, in a private (0600) temporary file in the database's directory
// whose name is already removed: the copy vanishes when the caller closes
// it, or when the process ends. It is a bbolt file that Open accepts. While
// the caller reads it at any pace, the store goes on writing.
func (s *Store) Snapshot() (*os.File, error) {
	path, err := newTempFile(s.path, snapshotInfix)
	if err != nil {
		return nil, fmt.Errorf("snapshotting %s: %w", s.path, err)
	}
	err = s.compactTo(path)
	var f *os.File
	if err == nil {
		f, err = os.Open(path)
	}
	if rerr := removeIfExists(path); rerr != nil {
		err = errors.Join(err, rerr)
		if f != nil {
			err = errors.Join(err, f.Close())
		}
	}
	if err != nil {
		return nil, fmt.Errorf("snapshotting %s: %w", s.path, err)
	}
	return f, nil
}

// WriteBackup writes a compacted copy of the database to w (see Snapshot)
// and returns the bytes written. The copy is a bbolt file that Open accepts.
// A slow or stalled w holds no transaction open.
func (s *Store) WriteBackup(w io.Writer) (int64, error) {
	f, err := s.Snapshot()
	if err != nil {
		return 0, fmt.Errorf("writing backup of %s: %w", s.path, err)
	}
	n, err := io.Copy(w, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("writing backup of %s: %w", s.path, err)
	}
	return n, nil
}

// BackupTo writes a compacted backup to path (mode 0600): it writes
// path+".tmp", syncs it, checks that it opens as a database of this schema,
// and renames it into place, so path is always either the old file or a
// whole new copy. path must not be the live database.
func (s *Store) BackupTo(path string) (err error) {
	if same, serr := sameFile(path, s.path); serr != nil || same {
		if serr == nil {
			serr = errors.New("it is the live database")
		}
		return fmt.Errorf("backing up to %s: %w", path, serr)
	}
	tmp := path + ".tmp"
	defer func() {
		if err != nil {
			err = errors.Join(fmt.Errorf("backing up to %s: %w", path, err), removeIfExists(tmp))
		}
	}()
	// a stale tmp may be anything, of any mode: the copy starts afresh
	if err := removeIfExists(tmp); err != nil {
		return err
	}
	if err := s.compactTo(tmp); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	if err := VerifyCopy(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// compactTo writes a compacted copy of the database to the empty or missing
// file dst, in the two steps described at the top of this file.
func (s *Store) compactTo(dst string) (err error) {
	raw, err := newTempFile(s.path, snapshotInfix)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, removeIfExists(raw)) }()
	if err := s.copyPages(raw); err != nil {
		return err
	}
	src, err := openBolt(raw, &bbolt.Options{ReadOnly: true, Timeout: lockTimeout})
	if err != nil {
		return fmt.Errorf("opening the copy of the pages: %w", err)
	}
	err = compactInto(dst, src)
	return errors.Join(err, src.Close())
}

// copyPages writes the live database's pages to the existing file path in
// one read transaction: step 1 of a backup.
func (s *Store) copyPages(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	err = s.view(func(tx *bbolt.Tx) error {
		_, err := tx.WriteTo(f)
		return err
	})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copying the pages: %w", err)
	}
	return nil
}

// RemoveStaleSnapshots removes the temporary copies that a process that
// crashed while making a backup left beside the database. Call it only
// while no backup is being made: the store's own Snapshot and BackupTo
// create such files.
func (s *Store) RemoveStaleSnapshots() error {
	stale, err := filepath.Glob(filepath.Join(filepath.Dir(s.path), globEscape(filepath.Base(s.path))+snapshotInfix+"*"))
	if err != nil {
		return err
	}
	var errs []error
	for _, path := range stale {
		errs = append(errs, removeIfExists(path))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("removing stale snapshots: %w", err)
	}
	return nil
}

// globEscape escapes the characters filepath.Match treats specially.
func globEscape(s string) string {
	out := make([]byte, 0, len(s))
	for i := range len(s) {
		switch s[i] {
		case '*', '?', '[', '\\':
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// VerifyCopy checks a copy of the database, such as a backup, read-only:
// its pages and records are sound (as at Open) and its schema version is
// this program's. A damaged copy gives an error wrapping ErrCorrupt.
func VerifyCopy(path string) error {
	if err := checkFile(path); err != nil {
		return fmt.Errorf("checking the copy: %w", err)
	}
	db, err := openBolt(path, &bbolt.Options{ReadOnly: true, Timeout: lockTimeout})
	if err != nil {
		return fmt.Errorf("checking the copy: %w", err)
	}
	err = db.View(func(tx *bbolt.Tx) error {
		if v, latest := schemaVersion(tx), migrations[len(migrations)-1].version; v != latest {
			return fmt.Errorf("the copy has schema version %d, want %d", v, latest)
		}
		return nil
	})
	if err != nil {
		err = fmt.Errorf("checking the copy: %w", err)
	}
	return errors.Join(err, db.Close())
}

// collect drains a bbolt Check channel.
func collect(ch <-chan error) []error {
	var errs []error
	for err := range ch {
		errs = append(errs, err)
	}
	return errs
}

// sameFile reports whether a and b name the same existing file.
func sameFile(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
