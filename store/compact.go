package store

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.etcd.io/bbolt"
)

// compactTxMaxSize bounds the bytes of records one transaction of a
// compaction writes: bbolt holds a transaction's pages in memory until it
// commits. At 200,000 contacts (BenchmarkSnapshot), 4 MiB compacts as fast
// as 32 MiB, with about 130 MB less memory.
const compactTxMaxSize = 4 << 20

// CompactResult is what Compact did to the file.
type CompactResult struct {
	// Before and After are the file's sizes in bytes.
	Before, After int64
}

// Compact rewrites the database file at path, offline, so that it holds its
// live records only: bbolt reuses the pages that deletions free but never
// clears them, so until then a deleted or forgotten record's bytes stay in
// the file. It refuses a file another process (the running bot) has open
// with ErrInUse, and a damaged file with ErrCorrupt. The copy is written
// beside the file (mode 0600, the file's owner), checked, and renamed over it,
// so path is always either the old file or the whole compacted one.
func Compact(path string) (res CompactResult, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("compacting %s: %w", path, err)
		}
	}()
	fi, err := os.Stat(path)
	if err != nil {
		return res, err
	}
	if err := preflight(path); err != nil {
		return res, err
	}
	// the shared lock of a read-only handle keeps the bot from opening the
	// file, and so from writing to it, until the copy has replaced it
	src, err := openBolt(path, &bbolt.Options{ReadOnly: true, Timeout: lockTimeout})
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, src.Close()) }()
	tmp, err := newTempFile(path, ".compact-")
	if err != nil {
		return res, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, removeIfExists(tmp))
		}
	}()
	if err := compactInto(tmp, src); err != nil {
		return res, err
	}
	if err := verifyCompaction(src, tmp); err != nil {
		return res, err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return res, err
	}
	if err := chownLike(tmp, fi); err != nil {
		return res, err
	}
	after, err := os.Stat(tmp)
	if err != nil {
		return res, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return res, err
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return res, err
	}
	return CompactResult{Before: fi.Size(), After: after.Size()}, nil
}

// newTempFile creates an empty private (0600) file beside path, named after
// it with infix, and returns its name.
func newTempFile(path, infix string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+infix+"*")
	if err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", errors.Join(err, os.Remove(f.Name()))
	}
	return f.Name(), nil
}

// compactInto writes a compacted copy of src into the empty or missing file
// dst with bbolt's Compact: every bucket with its sequence, so IDs are never
// reused, and every live record, in pages filled to the brim. Nothing else of
// src reaches dst: no free page, so no deleted record. The copy is synced
// once at the end rather than at each of its commits. bbolt panics on some
// damaged pages of src; such a panic gives an error wrapping ErrCorrupt.
func compactInto(dst string, src *bbolt.DB) (err error) {
	defer recoverCorrupt(&err)
	db, err := bbolt.Open(dst, 0o600, &bbolt.Options{Timeout: lockTimeout, NoSync: true, NoGrowSync: true})
	if err != nil {
		return fmt.Errorf("creating %s: %w", dst, err)
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	if err := bbolt.Compact(db, src, compactTxMaxSize); err != nil {
		return fmt.Errorf("copying the records: %w", err)
	}
	if err := db.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dst, err)
	}
	return nil
}

// verifyCompaction checks the compacted copy at dst: its pages and records
// are sound (checkFile), and it has the buckets of src with the same
// sequences and numbers of keys.
func verifyCompaction(src *bbolt.DB, dst string) error {
	if err := checkFile(dst); err != nil {
		return fmt.Errorf("checking the compacted copy: %w", err)
	}
	want, err := bucketShapes(src)
	if err != nil {
		return err
	}
	copyDB, err := openBolt(dst, &bbolt.Options{ReadOnly: true, Timeout: lockTimeout})
	if err != nil {
		return fmt.Errorf("checking the compacted copy: %w", err)
	}
	got, err := bucketShapes(copyDB)
	if err = errors.Join(err, copyDB.Close()); err != nil {
		return fmt.Errorf("checking the compacted copy: %w", err)
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if got[name] != want[name] {
			return fmt.Errorf("checking the compacted copy: bucket %s has %+v, the original %+v", name, got[name], want[name])
		}
	}
	if len(got) != len(want) {
		return fmt.Errorf("checking the compacted copy: %d buckets, the original %d", len(got), len(want))
	}
	return nil
}

// bucketShape is what compaction must keep of a bucket.
type bucketShape struct {
	Keys     int
	Sequence uint64
}

// bucketShapes returns the shape of every bucket of db, nested ones under
// their path joined with "/".
func bucketShapes(db *bbolt.DB) (shapes map[string]bucketShape, err error) {
	defer recoverCorrupt(&err)
	shapes = map[string]bucketShape{}
	var walk func(path []string, b *bbolt.Bucket) error
	walk = func(path []string, b *bbolt.Bucket) error {
		shape := bucketShape{Sequence: b.Sequence()}
		err := b.ForEach(func(k, v []byte) error {
			shape.Keys++
			if v == nil {
				return walk(append(slices.Clone(path), string(k)), b.Bucket(k))
			}
			return nil
		})
		shapes[strings.Join(path, "/")] = shape
		return err
	}
	err = db.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error { return walk([]string{string(name)}, b) })
	})
	return shapes, err
}
