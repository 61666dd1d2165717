package main

// The admin socket lets maintenance commands work while the bot runs. bbolt
// locks the database file against a second process, so `mobilise backup`,
// `export` and `stats` cannot open it then. Instead the running bot listens
// on a unix socket in the data directory (mode 0600, so only its own user and
// root reach it) and sends a compacted copy of the database (store.Snapshot):
// the copy is made in full into a private temporary file first, so the pace
// of the client, who may be slow, suspended or malicious, never holds a
// transaction open, and a client that stops reading for backupStall is cut
// off. backup writes that copy to its file; export and stats read a
// temporary copy, removed afterwards, and so work the same whether the bot
// runs or not. When no bot answers on the socket, the commands open the file
// directly.

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
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"mobilise/store"
)

const (
	// adminSocketName is the admin socket's file in the data directory.
	adminSocketName = "admin.sock"
	// maxSocketPath is the longest unix socket path Linux and the BSDs accept.
	maxSocketPath = 103
	// backupStall is how long a backup client may stop reading before the
	// bot gives up on it: long enough for a slow disk to catch up, short
	// enough that a stuck client does not keep a copy of the database open.
	backupStall = 30 * time.Second
	// backupChunk is how much of a copy is written under one deadline.
	backupChunk = 256 << 10
	// adminShutdown is how long a stopping bot waits for backups in flight
	// to finish before it cuts them off.
	adminShutdown = 5 * time.Second
)

// errNoBot means no bot answers on the admin socket.
var errNoBot = errors.New("no running bot answers on the admin socket")

// adminServer serves the admin socket.
type adminServer struct {
	srv *http.Server
	ln  net.Listener
	log *slog.Logger
	st  *store.Store
	// stall is the write deadline of a backup: backupStall, shorter in tests.
	stall time.Duration
	// handlers counts the backups in flight, so serve returns only once
	// their copies are closed; closed, under mu, turns away those that
	// would start after serve began to wait.
	handlers sync.WaitGroup
	mu       sync.Mutex
	closed   bool
}

// begin counts a backup in, unless the server is closing.
func (a *adminServer) begin() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return false
	}
	a.handlers.Add(1)
	return true
}

// wait waits for the backups in flight and turns away any other.
func (a *adminServer) wait() {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.handlers.Wait()
}

// listenAdmin starts listening on the admin socket of dataDir. The caller
// holds the database's lock, so a socket file already there is left over
// from a bot that crashed, and is replaced, and so are the temporary copies
// of a backup it was making. A data directory whose path is too long for a
// socket gets none (nil server, a warning): the maintenance commands then
// need the bot stopped.
func listenAdmin(dataDir string, st *store.Store, log *slog.Logger) (*adminServer, error) {
	if err := st.RemoveStaleSnapshots(); err != nil {
		log.Warn("removing the copies a crashed backup left", "error", err)
	}
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
	a := &adminServer{ln: ln, log: log, st: st, stall: backupStall}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /backup", a.backup)
	a.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return a, nil
}

// backup sends a compacted copy of the database, with its length, so the
// client can tell a whole copy from one cut short. Each chunk must leave
// within a.stall: a client that stops reading is disconnected.
func (a *adminServer) backup(w http.ResponseWriter, r *http.Request) {
	if !a.begin() {
		http.Error(w, "the bot is stopping", http.StatusServiceUnavailable)
		return
	}
	defer a.handlers.Done()
	start := time.Now()
	f, err := a.st.Snapshot()
	if err != nil {
		a.log.Error("making a backup", "error", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		a.log.Error("making a backup", "error", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
	n, err := io.CopyBuffer(deadlineWriter{w: w, rc: http.NewResponseController(w), stall: a.stall}, onlyReader{f}, make([]byte, backupChunk))
	if err != nil {
		a.log.Warn("backup client cut off", "sent", n, "of", fi.Size(), "error", err)
		return
	}
	a.log.Info("backup sent", "bytes", n, "took", time.Since(start).Round(time.Millisecond))
}

// deadlineWriter gives each write to a response stall to complete.
type deadlineWriter struct {
	w     io.Writer
	rc    *http.ResponseController
	stall time.Duration
}

func (d deadlineWriter) Write(p []byte) (int, error) {
	if err := d.rc.SetWriteDeadline(time.Now().Add(d.stall)); err != nil {
		return 0, fmt.Errorf("setting the write deadline: %w", err)
	}
	n, err := d.w.Write(p)
	if err == nil {
		// the response writer buffers: the chunk must reach the client
		// under this deadline, not under the next one
		err = d.rc.Flush()
	}
	return n, err
}

// onlyReader hides the file's WriteTo, so io.CopyBuffer writes through
// deadlineWriter chunk by chunk.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// serve answers on the socket until ctx ends; then it lets the backups in
// flight finish for a while, cuts off those still going, waits until their
// copies are closed, and removes the socket file (closing the listener does).
func (a *adminServer) serve(ctx context.Context) {
	if a == nil {
		return
	}
	done := make(chan error, 1)
	go func() { done <- a.srv.Serve(a.ln) }()
	select {
	case err := <-done:
		a.log.Error("admin socket stopped", "error", err)
		a.wait()
		return
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), adminShutdown)
	defer cancel()
	if err := a.srv.Shutdown(shutCtx); err != nil {
		a.log.Warn("cutting off backups still in flight", "error", err)
		if err := a.srv.Close(); err != nil {
			a.log.Warn("closing the admin socket", "error", err)
		}
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		a.log.Error("admin socket stopped", "error", err)
	}
	a.wait()
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
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096)) // the reason, if the bot could say it
		return 0, fmt.Errorf("asking the bot for a backup on %s: %s: the bot: %s", socket, resp.Status, strings.TrimSpace(string(msg)))
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
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("the copy from the bot was cut short after %d of %d bytes (the bot cuts off a client that stops reading for %s): %w",
			n, resp.ContentLength, backupStall, err)
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
	if err := store.VerifyCopy(tmp); err != nil {
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
