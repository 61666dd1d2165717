package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"mobilise/store"
)

const (
	// backupsDirName is the directory in the data directory that `mobilise
	// backup` writes to when no file is named.
	backupsDirName = "backups"
	// latestBackupName is the file in the backups directory that records
	// where the last `mobilise backup FILE` wrote, so that a bot that finds
	// its database damaged can name that copy too.
	latestBackupName = "latest"
	// backupTimeLayout names the backups of the backups directory.
	backupTimeLayout = "20060102T150405Z"
)

// runBackup writes a compacted copy of the database to a file.
func runBackup(args []string, getenv func(string) string, stdout io.Writer, stderr *os.File) int {
	fs := flag.NewFlagSet("mobilise backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: mobilise backup [--data DIR] [FILE]

Writes a copy of DIR/mobilise.db to FILE (mode 0600), or without FILE to
DIR/backups/mobilise-YYYYMMDDTHHMMSSZ.db. The copy is compacted: it holds the
live records only, nothing deleted or forgotten before it was made. It comes
from the running bot through its admin socket, or from the file when the bot
is stopped. The files of campaigns and broadcasts (DIR/media) are copied to
the directory media beside FILE, each checked against its name, the ones it
holds already skipped. A bot that finds its database damaged names the
newest backup. Restore by stopping the bot, putting the copy in place of
mobilise.db and copying the media directory's files into DIR/media.

`)
		fs.PrintDefaults()
	}
	dataDir := maintenanceFlags(fs, getenv)
	dir, code, ok := parseMaintenanceArgs(fs, args, 1, dataDir)
	if !ok {
		return code
	}
	cfg := Config{DataDir: dir}
	if _, err := os.Stat(cfg.dbPath()); err != nil {
		fmt.Fprintf(stderr, "mobilise backup: no database at %s (is --data right?): %v\n", cfg.dbPath(), err)
		return 1
	}
	dst := fs.Arg(0)
	if dst == "" {
		var err error
		if dst, err = defaultBackupPath(dir, time.Now()); err != nil {
			fmt.Fprintln(stderr, "mobilise backup:", err)
			return 1
		}
	}
	// stopped mid-copy, it removes its partial copy before it exits
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	_, err := fetchBackup(ctx, dir, dst)
	stop()
	from := " (from the running bot)"
	switch {
	case errors.Is(err, errNoBot):
		from = ""
		if err := backupOffline(cfg, dst); err != nil {
			fmt.Fprintln(stderr, "mobilise backup:", err)
			return 1
		}
	case err != nil:
		fmt.Fprintln(stderr, "mobilise backup:", err)
		return 1
	}
	fmt.Fprintf(stdout, "backup written to %s%s\n", dst, from)
	n, size, mediaDir, err := backupMedia(cfg, dst)
	if err != nil {
		fmt.Fprintln(stderr, "mobilise backup:", err)
		return 1
	}
	fmt.Fprintf(stdout, "media: %d new files (%d bytes) copied to %s\n", n, size, mediaDir)
	if err := recordBackup(dir, dst); err != nil {
		// the backup is there; only its mention in a damage report is lost
		fmt.Fprintf(stderr, "mobilise backup: recording where the backup is: %v\n", err)
	}
	return 0
}

// backupOffline writes the backup from the file itself, the bot being stopped.
func backupOffline(cfg Config, dst string) error {
	st, err := store.Open(cfg.dbPath())
	if err != nil {
		return err
	}
	err = st.RemoveStaleSnapshots() // the lock is ours: no backup is being made
	if err == nil {
		err = st.BackupTo(dst)
	}
	return errors.Join(err, st.Close())
}

// backupsDir returns the backups directory of dataDir.
func backupsDir(dataDir string) string { return filepath.Join(dataDir, backupsDirName) }

// defaultBackupPath returns the file of a backup made at now in the backups
// directory, which it creates; a second backup within the same second gets
// a number, so as not to replace the first.
func defaultBackupPath(dataDir string, now time.Time) (string, error) {
	dir, err := ensureBackupsDir(dataDir)
	if err != nil {
		return "", err
	}
	base := filepath.Join(dir, "mobilise-"+now.UTC().Format(backupTimeLayout))
	path := base + ".db"
	for i := 2; ; i++ {
		if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
			return path, nil
		} else if err != nil {
			return "", err
		}
		path = fmt.Sprintf("%s-%d.db", base, i)
	}
}

// ensureBackupsDir creates the backups directory of dataDir if need be,
// 0700 and owned like the data directory, so the bot can list it.
func ensureBackupsDir(dataDir string) (string, error) {
	dir := backupsDir(dataDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	if err := giveToOwnerOf(dir, dataDir); err != nil {
		return "", fmt.Errorf("giving %s to the bot's user: %w", dir, err)
	}
	return dir, nil
}

// recordBackup notes, in the backups directory, the absolute path of a
// backup written elsewhere.
func recordBackup(dataDir, backup string) error {
	abs, err := filepath.Abs(backup)
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(backupsDir(dataDir))
	if err != nil {
		return err
	}
	if filepath.Dir(abs) == dir {
		return nil // newestBackup finds it there
	}
	if _, err := ensureBackupsDir(dataDir); err != nil {
		return err
	}
	record := filepath.Join(dir, latestBackupName)
	tmp := record + ".tmp"
	if err := os.WriteFile(tmp, []byte(abs+"\n"), 0o600); err != nil {
		return err
	}
	if err := giveToOwnerOf(tmp, dataDir); err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	return os.Rename(tmp, record)
}

// backupFile is one backup found.
type backupFile struct {
	path    string
	written time.Time
}

// newestBackup finds the newest backup of dataDir's database: the newest
// file of the backups directory, or the file the last `mobilise backup
// FILE` wrote, whichever was written last. ok is false if there is none.
func newestBackup(dataDir string) (newest backupFile, ok bool) {
	dir := backupsDir(dataDir)
	candidates, _ := filepath.Glob(filepath.Join(dir, "mobilise-*.db")) // only a malformed pattern errs
	if b, err := os.ReadFile(filepath.Join(dir, latestBackupName)); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(b)))
	}
	for _, path := range candidates {
		fi, err := os.Stat(path)
		if err != nil || !fi.Mode().IsRegular() {
			continue // moved away or deleted since
		}
		if !ok || fi.ModTime().After(newest.written) {
			newest, ok = backupFile{path: path, written: fi.ModTime()}, true
		}
	}
	return newest, ok
}

// parseMaintenanceArgs parses a maintenance command's args into fs (whose
// output is stderr), checks that at most maxArgs arguments are left, and
// resolves the data directory with dataDir (from maintenanceFlags). When the
// command is not to run, ok is false and code is its exit status: 0 after
// --help, 2 after a usage error, which is reported.
func parseMaintenanceArgs(fs *flag.FlagSet, args []string, maxArgs int, dataDir func() (string, error)) (dir string, code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", 0, false
		}
		return "", 2, false
	}
	if fs.NArg() > maxArgs {
		fs.Usage()
		// last, where the terminal shows it: flags after an argument are not read
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(maxArgs))
		return "", 2, false
	}
	dir, err := dataDir()
	if err != nil {
		fmt.Fprintf(fs.Output(), "%s: %v\n", fs.Name(), err)
		return "", 2, false
	}
	return dir, 0, true
}

// readSnapshot runs read on a consistent copy of dataDir's database (see
// openForReading), then lets the copy go. read's error comes first.
func readSnapshot(ctx context.Context, dataDir string, read func(st *store.Store) error) error {
	st, done, err := openForReading(ctx, dataDir)
	if err != nil {
		return err
	}
	err = read(st)
	if derr := done(); err == nil {
		err = derr
	}
	return err
}

// backupMedia copies the data directory's media files into the directory
// media beside the backup dst. Files are named by their content and never
// change, so they are copied after the database: every file the copy names
// was written before the record that names it, and a file added since is
// only one more. It returns how many files it copied, their bytes and the
// directory.
func backupMedia(cfg Config, dst string) (int, int64, string, error) {
	files, err := store.OpenMediaFiles(store.MediaDir(cfg.dbPath()), 0)
	if err != nil {
		return 0, 0, "", err
	}
	dir := filepath.Join(filepath.Dir(dst), "media")
	n, size, err := files.CopyTo(dir)
	if err != nil {
		return n, size, dir, fmt.Errorf("copying media to %s: %w", dir, err)
	}
	return n, size, dir, nil
}
