package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"go.etcd.io/bbolt"
)

// WriteBackup writes a consistent copy of the whole database to w from one
// read transaction, while writes go on, and returns the bytes written. The
// copy is a bbolt file that Open accepts.
func (s *Store) WriteBackup(w io.Writer) (int64, error) {
	var n int64
	err := s.view(func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("writing backup of %s: %w", s.path, err)
	}
	return n, nil
}

// BackupTo writes a backup to path (mode 0600): it writes path+".tmp",
// syncs it, checks that it opens as a database of this schema, and renames
// it into place, so path is always either the old file or a whole new copy.
// path must not be the live database.
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
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil { // a stale tmp may have had another mode
		return errors.Join(err, f.Close())
	}
	if _, err := s.WriteBackup(f); err != nil {
		return errors.Join(err, f.Close())
	}
	if err := f.Sync(); err != nil {
		return errors.Join(err, f.Close())
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := verifyBackup(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// verifyBackup opens the copy read-only and checks its schema version and
// page structure.
func verifyBackup(path string) error {
	db, err := openBolt(path, &bbolt.Options{ReadOnly: true, Timeout: lockTimeout, PreLoadFreelist: true})
	if err != nil {
		return fmt.Errorf("checking the copy: %w", err)
	}
	err = db.View(func(tx *bbolt.Tx) error {
		if v, latest := schemaVersion(tx), migrations[len(migrations)-1].version; v != latest {
			return fmt.Errorf("the copy has schema version %d, want %d", v, latest)
		}
		return errors.Join(collect(tx.Check())...)
	})
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
