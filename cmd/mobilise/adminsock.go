package main

// The admin socket lets maintenance commands work while the bot runs. bbolt
// locks the database file against a second process, so `mobilise backup`,
// `export` and `stats` cannot open it then. Instead the running bot listens
// on a unix socket in the data directory (mode 0600, so only its own user and
// root reach it) and streams a consistent copy of the database, taken in one
// read transaction while writes go on. backup writes that copy to its file;
// export and stats read a temporary copy, removed afterwards, and so work the
// same whether the bot runs or not. When no bot answers on the socket, the
// commands open the file directly.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"go.etcd.io/bbolt"

	"mobilise/store"
)

const (
	// adminSocketName is the admin socket's file in the data directory.
	adminSocketName = "admin.sock"
	// backupErrorTrailer carries an error met after the copy began streaming.
	backupErrorTrailer = "Mobilise-Backup-Error"
	// maxSocketPath is the longest unix socket path Linux and the BSDs accept.
	maxSocketPath = 103
)

// errNoBot means no bot answers on the admin socket.
var errNoBot = errors.New("no running bot answers on the admin socket")

// adminServer serves the admin socket.
type adminServer struct {
	srv *http.Server
	ln  net.Listener
	log *slog.Logger
}

// listenAdmin starts listening on the admin socket of dataDir. The caller
// holds the database's lock, so a socket file already there is left over
// from a bot that crashed, and is replaced. A data directory whose path is
// too long for a socket gets none (nil server, a warning): the maintenance
// commands then need the bot stopped.
func listenAdmin(dataDir string, st *store.Store, log *slog.Logger) (*adminServer, error) {
	path := filepath.Join(dataDir, adminSocketName)
	if len(path) > maxSocketPath {
		log.Warn("data directory path too long for the admin socket; stop the bot to back up or export", "path", path)
		return nil, nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("removing the old admin socket: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	// the data directory is 0700 already; this keeps the socket private if it is not
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, errors.Join(fmt.Errorf("admin socket: %w", err), ln.Close())
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /backup", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Trailer", backupErrorTrailer)
		start := time.Now()
		n, err := st.WriteBackup(w)
		if err != nil {
			w.Header().Set(backupErrorTrailer, err.Error())
			log.Error("streaming a backup", "error", err)
			return
		}
		log.Info("backup streamed", "bytes", n, "took", time.Since(start).Round(time.Millisecond))
	})
	return &adminServer{
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)},
		ln:  ln,
		log: log,
	}, nil
}

// serve answers on the socket until ctx ends; closing the listener removes
// the socket file.
func (a *adminServer) serve(ctx context.Context) {
	if a == nil {
		return
	}
	serveUntil(ctx, a.srv, a.ln, a.log)
}

// adminClient returns an HTTP client that reaches the bot on the socket.
func adminClient(socket string) *http.Client {
	var d net.Dialer
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", socket)
		},
	}}
}

// fetchBackup asks the bot running on dataDir for a copy of its database and
// writes it to dst (mode 0600) the way store.BackupTo does: to dst+".tmp",
// synced and checked, then renamed into place. errNoBot if no bot answers.
func fetchBackup(ctx context.Context, dataDir, dst string) (n int64, err error) {
	live := filepath.Join(dataDir, dbFileName)
	if same, err := sameFile(dst, live); err != nil || same {
		if err == nil {
			err = errors.New("it is the live database")
		}
		return 0, fmt.Errorf("backing up to %s: %w", dst, err)
	}
	socket := filepath.Join(dataDir, adminSocketName)
	if len(socket) > maxSocketPath {
		return 0, errNoBot // listenAdmin made none
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://mobilise/backup", nil)
	if err != nil {
		return 0, err
	}
	resp, err := adminClient(socket).Do(req)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			return 0, errNoBot
		}
		return 0, fmt.Errorf("asking the bot for a backup on %s: %w", socket, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("asking the bot for a backup on %s: %s", socket, resp.Status)
	}
	tmp := dst + ".tmp"
	defer func() {
		if err != nil {
			if rerr := os.Remove(tmp); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				err = errors.Join(err, rerr)
			}
			err = fmt.Errorf("backing up to %s: %w", dst, err)
		}
	}()
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	if err := f.Chmod(0o600); err != nil { // a stale tmp may have had another mode
		return 0, errors.Join(err, f.Close())
	}
	n, err = io.Copy(f, resp.Body)
	if err == nil {
		if msg := resp.Trailer.Get(backupErrorTrailer); msg != "" {
			err = fmt.Errorf("the bot: %s", msg)
		}
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, err
	}
	if err := checkCopy(tmp); err != nil {
		return n, err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return n, err
	}
	d, err := os.Open(filepath.Dir(dst))
	if err != nil {
		return n, err
	}
	return n, errors.Join(d.Sync(), d.Close())
}

// checkCopy checks a copy's page structure read-only, as store.BackupTo
// checks its own copies.
func checkCopy(path string) error {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("checking the copy: %w", err)
	}
	err = db.View(func(tx *bbolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
	if err != nil {
		err = fmt.Errorf("checking the copy: %w", err)
	}
	return errors.Join(err, db.Close())
}

// sameFile reports whether a and b name the same existing file.
func sameFile(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}

// dbFileName is the database's file in the data directory.
const dbFileName = "mobilise.db"

// openForReading opens the database of dataDir for a maintenance command: a
// copy fetched from the running bot, or the file itself when no bot runs.
// done closes the store and removes the copy.
func openForReading(ctx context.Context, dataDir string) (st *store.Store, done func() error, err error) {
	path := filepath.Join(dataDir, dbFileName)
	if _, err := os.Stat(path); err != nil {
		return nil, nil, fmt.Errorf("no database at %s (is --data right?): %w", path, err)
	}
	tmpDir, err := os.MkdirTemp("", "mobilise-copy-*")
	if err != nil {
		return nil, nil, err
	}
	removeTmp := func() error { return os.RemoveAll(tmpDir) }
	snapshot := filepath.Join(tmpDir, dbFileName)
	_, err = fetchBackup(ctx, dataDir, snapshot)
	switch {
	case errors.Is(err, errNoBot):
		snapshot = path
	case err != nil:
		return nil, nil, errors.Join(err, removeTmp())
	}
	st, err = store.Open(snapshot)
	if err != nil {
		if errors.Is(err, store.ErrInUse) {
			err = fmt.Errorf("%w; the bot holding it does not answer on %s: is it an older mobilise? stop it first",
				err, filepath.Join(dataDir, adminSocketName))
		}
		return nil, nil, errors.Join(err, removeTmp())
	}
	return st, func() error { return errors.Join(st.Close(), removeTmp()) }, nil
}

// maintenanceFlags adds --data and --config to a maintenance command's flags;
// resolve, after parsing, gives the data directory from defaults < config
// file < MOBILISE_DATA < --data.
func maintenanceFlags(fs *flag.FlagSet, getenv func(string) string) (resolve func() (string, error)) {
	data := fs.String("data", "", "data directory, holding mobilise.db (default ./data, or MOBILISE_DATA, or the config file's)")
	config := fs.String("config", "", "config file (TOML) to take the data directory from (default MOBILISE_CONFIG)")
	return func() (string, error) {
		cfg := defaultConfig()
		if path := firstNonEmpty(*config, getenv("MOBILISE_CONFIG")); path != "" {
			if err := cfg.applyConfigFile(path); err != nil {
				return "", err
			}
		}
		if v := getenv("MOBILISE_DATA"); v != "" {
			cfg.DataDir = v
		}
		if *data != "" {
			cfg.DataDir = *data
		}
		return cfg.DataDir, nil
	}
}
