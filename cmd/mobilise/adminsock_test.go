package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mobilise/bot"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"mobilise/messages"
	"mobilise/store"
)

// runningBot stands for a running bot: it holds the store open, and so its
// lock, and serves the admin socket as serve does, until the test ends.
func runningBot(t *testing.T, st *store.Store, dataDir string) {
	t.Helper()
	cfg := defaultConfig()
	cfg.DataDir = dataDir
	stop, err := startOps(t.Context(), cfg, slog.New(slog.DiscardHandler), st, prometheus.NewRegistry(), nil, nil, nil)
	require.NoError(t, err)
	t.Cleanup(stop)
}

// TestBackupDuringABroadcast takes backups through the admin socket while a
// broadcast is being sent and people pledge, and checks that each restores
// to a consistent database: indexes, counters and the broadcast's progress
// agree with the records.
func TestBackupDuringABroadcast(t *testing.T) {
	st, data := opsStore(t)
	camp := &store.Campaign{Code: "peace", TitleAR: "سلام", Kind: store.KindPledge, StartAt: time.Now().Add(-time.Hour)}
	require.NoError(t, st.CreateCampaign(context.Background(), camp))
	const people = 400
	var entries []store.OutboxEntry
	var ids []uint64
	for i := range people {
		c, _, err := st.EnsureContact(context.Background(), bot.MustParseAddress(fmt.Sprintf("telegram:%d", 1000+i)), "", "ar")
		require.NoError(t, err)
		ids = append(ids, c.ID)
		entries = append(entries, store.OutboxEntry{To: c.Addresses[0], ContactID: c.ID, Text: "نداء"})
	}
	b := &store.Broadcast{TextAR: "نداء", Audience: store.Audience{Kind: store.AudienceEveryone}}
	require.NoError(t, st.CreateBroadcast(context.Background(), b))
	require.NoError(t, st.QueueBroadcast(context.Background(), b.ID, entries))
	runningBot(t, st, data)

	// the dispatcher sends in small batches while people pledge
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Go(func() {
		var after uint64
		for ctx.Err() == nil {
			batch, err := st.PendingOutbox(context.Background(), "telegram", true, after, 5)
			if err != nil || len(batch) == 0 {
				errs <- err
				return
			}
			var done []uint64
			for _, e := range batch {
				done = append(done, e.ID)
				after = e.ID
			}
			if err := st.OutboxDone(context.Background(), done...); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Go(func() {
		for _, id := range ids {
			if ctx.Err() != nil {
				return
			}
			if _, err := st.AddPledge(context.Background(), store.Pledge{CampaignID: camp.ID, ContactID: id, Channel: "telegram"}); err != nil {
				errs <- err
				return
			}
		}
	})
	var files []string
	for i := range 3 {
		file := filepath.Join(t.TempDir(), fmt.Sprintf("backup-%d.db", i))
		code, stdout, stderr := opsRun(t, []string{"backup", "--data", data, file}, nil)
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stdout, "from the running bot")
		files = append(files, file)
	}
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	for _, file := range files {
		fi, err := os.Stat(file)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
		copySt, err := store.Open(file)
		require.NoError(t, err)
		require.NoError(t, copySt.Check(), "the copy %s is consistent", file)
		got, err := copySt.Broadcast(context.Background(), b.ID)
		require.NoError(t, err)
		depth, err := copySt.OutboxDepth(context.Background())
		require.NoError(t, err)
		t.Logf("copy: sent %d, waiting %d", got.Sent, depth["telegram"])
		assert.Equal(t, people, got.Sent+depth["telegram"], "every message is either sent or still waiting in the copy")
		n, err := copySt.Counts(context.Background(), camp.ID)
		require.NoError(t, err)
		pledges := 0
		require.NoError(t, copySt.Pledges(context.Background(), camp.ID, func(*store.Pledge) error { pledges++; return nil }))
		assert.Equal(t, pledges, n.Pledges)
		require.NoError(t, copySt.Close())
	}
}

func TestExportAndStatsWhileTheBotRuns(t *testing.T) {
	st, data := opsStore(t)
	opsSeed(t, st)
	runningBot(t, st, data)
	env := map[string]string{"MOBILISE_DATA": data}
	copiesBefore, err := filepath.Glob(filepath.Join(os.TempDir(), "mobilise-copy-*"))
	require.NoError(t, err)

	code, stdout, stderr := opsRun(t, []string{"stats", "--json"}, env)
	require.Equal(t, 0, code, stderr)
	var rep statsReport
	require.NoError(t, json.Unmarshal([]byte(stdout), &rep))
	require.Len(t, rep.Campaigns, 2)
	assert.Equal(t, 3, rep.Campaigns[0].Pledges)

	out := filepath.Join(t.TempDir(), "export")
	code, _, stderr = opsRun(t, []string{"export", "--dir", out}, env)
	require.Equal(t, 0, code, stderr)
	assert.Len(t, readCSV(t, filepath.Join(out, "pledges.csv")), 4)

	// the bot goes on writing after the copies were taken
	_, err = st.AddSignup(context.Background(), store.Signup{CampaignID: 1, ContactID: 2})
	require.NoError(t, err)
	copiesAfter, err := filepath.Glob(filepath.Join(os.TempDir(), "mobilise-copy-*"))
	require.NoError(t, err)
	assert.ElementsMatch(t, copiesBefore, copiesAfter, "the temporary copies are removed")
}

func TestBackupRefusesTheLiveDatabase(t *testing.T) {
	st, data := opsStore(t)
	runningBot(t, st, data)
	live := filepath.Join(data, dbFileName)
	before, err := os.ReadFile(live)
	require.NoError(t, err)
	code, _, stderr := opsRun(t, []string{"backup", "--data", data, live}, nil)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "it is the live database")
	after, err := os.ReadFile(live)
	require.NoError(t, err)
	assert.Equal(t, before, after)
}

func TestMaintenanceAfterACrash(t *testing.T) {
	st, data := opsStore(t)
	opsSeed(t, st)
	// a bot that crashed left its socket file behind, and nobody listens
	ln, err := net.Listen("unix", filepath.Join(data, adminSocketName))
	require.NoError(t, err)
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	require.NoError(t, ln.Close())
	require.NoError(t, st.Close())

	code, stdout, stderr := opsRun(t, []string{"stats", "--data", data}, nil)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "peace")
	file := filepath.Join(t.TempDir(), "b.db")
	code, stdout, stderr = opsRun(t, []string{"backup", "--data", data, file}, nil)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "backup written to "+file+"\nmedia: 0 new files (0 bytes) copied to "+filepath.Join(filepath.Dir(file), "media")+"\n", stdout)

	// the next bot replaces the stale socket
	st, err = store.Open(filepath.Join(data, dbFileName))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	runningBot(t, st, data)
	code, stdout, stderr = opsRun(t, []string{"stats", "--data", data}, nil)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "peace")
}

func TestMaintenanceWhileABotWithoutSocketRuns(t *testing.T) {
	st, data := opsStore(t)
	_ = st // holds the lock, as an older bot without the admin socket would
	code, _, stderr := opsRun(t, []string{"stats", "--data", data}, nil)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "in use by another process")
	assert.Contains(t, stderr, "does not answer on "+filepath.Join(data, adminSocketName))
}

func TestConfigFileGivesMaintenanceTheDataDirectory(t *testing.T) {
	st, data := opsStore(t)
	opsSeed(t, st)
	require.NoError(t, st.Close())
	conf := writeFile(t, "mobilise.toml", fmt.Sprintf("data = %q\n", data), 0o600)
	code, stdout, stderr := opsRun(t, []string{"stats", "--config", conf}, nil)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "peace")
	code, stdout, stderr = opsRun(t, []string{"stats"}, map[string]string{"MOBILISE_CONFIG": conf})
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "peace")
}

func TestBackupFailsClearlyWhenTheBotCannotRead(t *testing.T) {
	st, data := opsStore(t)
	runningBot(t, st, data)
	require.NoError(t, st.Close()) // the copy fails inside the bot
	file := filepath.Join(t.TempDir(), "b.db")
	code, _, stderr := opsRun(t, []string{"backup", "--data", data, file}, nil)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "500 Internal Server Error: the bot: snapshotting")
	assert.Contains(t, stderr, "database not open")
	leftovers, err := filepath.Glob(file + "*")
	require.NoError(t, err)
	assert.Empty(t, leftovers, "neither the file nor its temporary copy is left")
}

// snapshotPrefix begins the names of the store's temporary copies.
const snapshotPrefix = dbFileName + ".snapshot-"

// openSnapshots counts this process's open files that are temporary copies
// of dataDir's database, their names removed or not: a backup in flight
// holds one.
func openSnapshots(t *testing.T, dataDir string) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc to see open files in: %v", err)
	}
	n := 0
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(target, filepath.Join(dataDir, snapshotPrefix)) {
			n++
		}
	}
	return n
}

// stalledBackup asks the bot on dataDir's socket for a backup, reads the
// first bytes of the answer and stops reading, as a suspended `mobilise
// backup` or one writing to a dead disk would. It returns the connection
// and the bytes read.
func stalledBackup(t *testing.T, dataDir string) (net.Conn, []byte) {
	t.Helper()
	conn, err := net.Dial("unix", filepath.Join(dataDir, adminSocketName))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	_, err = io.WriteString(conn, "GET /backup HTTP/1.1\r\nHost: mobilise\r\n\r\n")
	require.NoError(t, err)
	head := make([]byte, 64)
	_, err = io.ReadFull(conn, head)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(head), "HTTP/1.1 200 OK"), "%q", head)
	return conn, head
}

// fillInstitutions adds institutions of about 2 KB each until the file's
// pages reach bytes.
func fillInstitutions(t *testing.T, st *store.Store, bytes int64) {
	t.Helper()
	for i := 0; pagesInUse(t, st) < bytes; i++ {
		require.NoError(t, st.CreateInstitution(context.Background(), &store.Institution{NameAR: fmt.Sprintf("مؤسسة %d %s", i, strings.Repeat("س", 1000)), Field: "youth"}))
	}
}

// pagesInUse is the size of the database's pages up to its high-water mark.
func pagesInUse(t *testing.T, st *store.Store) int64 {
	var n int64
	require.NoError(t, st.DB().View(func(tx *bbolt.Tx) error { n = tx.Size(); return nil }))
	return n
}

func fileSize(t *testing.T, path string) int64 {
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Size()
}

// TestStalledBackupClientIsCutOff stalls a backup client mid-copy and keeps
// the store writing meanwhile until its file has grown past its memory map
// (which bbolt cannot do under an open read transaction); then, after the
// write deadline, the bot cuts the client off, closes its copy and leaves
// no file behind.
func TestStalledBackupClientIsCutOff(t *testing.T) {
	st, data := opsStore(t)
	fillInstitutions(t, st, 4<<20) // a copy far larger than the socket's buffers
	var logs syncWriter
	adm, err := listenAdmin(data, st, slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, err)
	adm.stall = time.Second
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan struct{})
	go func() { adm.serve(ctx); close(served) }()
	t.Cleanup(func() { cancel(); <-served })

	// the deadline runs from the bot's last write to the client, inside stalledBackup
	stalledAt := time.Now()
	conn, head := stalledBackup(t, data)
	require.Equal(t, 1, openSnapshots(t, data), "the bot holds its copy for the stalled client")
	start := fileSize(t, st.Path())
	var slowest time.Duration
	for i := 0; fileSize(t, st.Path()) < 2*start; i++ {
		began := time.Now()
		require.NoError(t, st.CreateInstitution(context.Background(), &store.Institution{NameAR: fmt.Sprintf("بعد %d %s", i, strings.Repeat("ب", 1000)), Field: "youth"}))
		slowest = max(slowest, time.Since(began))
	}
	t.Logf("while the client stalled the file grew from %d to %d bytes; slowest write %v", start, fileSize(t, st.Path()), slowest)
	assert.Less(t, slowest, time.Second, "writes go on at their usual pace")

	waitFor(t, nil, 10*time.Second, "the bot to give up on the stalled client", func() bool { return openSnapshots(t, data) == 0 })
	assert.GreaterOrEqual(t, time.Since(stalledAt), adm.stall, "not before the deadline")
	assert.Contains(t, logs.String(), "backup client cut off")
	names, err := filepath.Glob(filepath.Join(data, snapshotPrefix+"*"))
	require.NoError(t, err)
	assert.Empty(t, names, "no temporary copy is left")

	// reading again, the client gets what the socket held, then the end of a
	// copy shorter than its Content-Length: it knows the copy is cut short
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	rest, err := io.ReadAll(conn)
	require.NoError(t, err, "the bot closed the connection")
	resp, err := http.ReadResponse(bufio.NewReader(io.MultiReader(bytes.NewReader(head), bytes.NewReader(rest))), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Less(t, int64(len(body)), resp.ContentLength)
	t.Logf("the client got %d of %d bytes", len(body), resp.ContentLength)
}

// TestBotAnswersWhileABackupStalls runs the bot in the terminal chat on a
// database whose pages nearly fill its memory map, stalls a backup client on
// its socket, and has one new person after another write to the bot: each
// is a new contact and session, and soon the file must grow, which bbolt
// cannot do under an open read transaction. Every person must be answered
// at once, and the bot must stop cleanly at the end of input with the
// client still stalled.
func TestBotAnswersWhileABackupStalls(t *testing.T) {
	st, data := opsStore(t)
	const mapped = 1 << 20 // the file's memory map once it is past 512 KiB
	fillInstitutions(t, st, mapped-48<<10)
	require.Equal(t, int64(mapped), fileSize(t, st.Path()))
	require.NoError(t, st.Close())

	stdin, typing := io.Pipe()
	var stdout syncWriter
	errFile, err := os.CreateTemp(t.TempDir(), "stderr")
	require.NoError(t, err)
	defer errFile.Close()
	exited := make(chan int, 1)
	go func() {
		exited <- run(t.Context(), []string{"--console"}, func(k string) string { return map[string]string{"MOBILISE_DATA": data}[k] },
			stdin, &stdout, errFile)
	}()
	waitFor(t, nil, 10*time.Second, "the admin socket", func() bool {
		conn, err := net.Dial("unix", filepath.Join(data, adminSocketName))
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	stalledBackup(t, data)

	greeting := "< " + strings.SplitN(catalog(t).Text("ar", messages.StartGreeting, nil), "\n", 2)[0]
	const people = 40
	for i := range people {
		began := time.Now()
		_, err := fmt.Fprintf(typing, ":as person%d\n/start\n", i)
		require.NoError(t, err)
		waitFor(t, nil, 10*time.Second, fmt.Sprintf("the answer to person %d", i), func() bool {
			return strings.Count(stdout.String(), greeting) == i+1
		})
		if took := time.Since(began); took > 2*time.Second {
			t.Errorf("person %d waited %v for an answer", i, took)
		}
	}
	require.NoError(t, typing.Close())
	select {
	case code := <-exited:
		logs, err := os.ReadFile(errFile.Name())
		require.NoError(t, err)
		require.Equal(t, 0, code, "%s", logs)
	case <-time.After(30 * time.Second):
		t.Fatal("the bot did not stop at the end of input")
	}
	assert.Zero(t, openSnapshots(t, data), "the stalled client's copy is closed")
	names, err := filepath.Glob(filepath.Join(data, snapshotPrefix+"*"))
	require.NoError(t, err)
	assert.Empty(t, names, "no temporary copy is left")

	st, err = store.Open(filepath.Join(data, dbFileName))
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, st.Check())
	t.Logf("the file is %d bytes after %d new people", fileSize(t, st.Path()), people)
}
