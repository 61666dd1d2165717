package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/store"
)

// runningBot stands for a running bot: it holds the store open, and so its
// lock, and serves the admin socket as serve does, until the test ends.
func runningBot(t *testing.T, st *store.Store, dataDir string) {
	t.Helper()
	cfg := defaultConfig()
	cfg.DataDir = dataDir
	stop, err := startOps(t.Context(), cfg, slog.New(slog.DiscardHandler), st, prometheus.NewRegistry(), nil)
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
	require.NoError(t, st.CreateCampaign(camp))
	const people = 400
	var entries []store.OutboxEntry
	var ids []uint64
	for i := range people {
		c, _, err := st.EnsureContact(fmt.Sprintf("telegram:%d", 1000+i), "", "ar")
		require.NoError(t, err)
		ids = append(ids, c.ID)
		entries = append(entries, store.OutboxEntry{To: c.Addresses[0], ContactID: c.ID, Text: "نداء"})
	}
	b := &store.Broadcast{TextAR: "نداء", Audience: store.Audience{Kind: store.AudienceEveryone}}
	require.NoError(t, st.CreateBroadcast(b))
	require.NoError(t, st.QueueBroadcast(b.ID, entries))
	runningBot(t, st, data)

	// the dispatcher sends in small batches while people pledge
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Go(func() {
		var after uint64
		for ctx.Err() == nil {
			batch, err := st.PendingOutbox("telegram", true, after, 5)
			if err != nil || len(batch) == 0 {
				errs <- err
				return
			}
			var done []uint64
			for _, e := range batch {
				done = append(done, e.ID)
				after = e.ID
			}
			if err := st.OutboxDone(done...); err != nil {
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
			if _, err := st.AddPledge(store.Pledge{CampaignID: camp.ID, ContactID: id, Channel: "telegram"}); err != nil {
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
		got, err := copySt.Broadcast(b.ID)
		require.NoError(t, err)
		depth, err := copySt.OutboxDepth()
		require.NoError(t, err)
		t.Logf("copy: sent %d, waiting %d", got.Sent, depth["telegram"])
		assert.Equal(t, people, got.Sent+depth["telegram"], "every message is either sent or still waiting in the copy")
		n, err := copySt.Counts(camp.ID)
		require.NoError(t, err)
		pledges := 0
		require.NoError(t, copySt.Pledges(camp.ID, func(*store.Pledge) error { pledges++; return nil }))
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
	_, err = st.AddSignup(store.Signup{CampaignID: 1, ContactID: 2})
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
	assert.Equal(t, "backup written to "+file+"\n", stdout)

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
	require.NoError(t, st.Close()) // the copy fails inside the bot, after the answer began
	file := filepath.Join(t.TempDir(), "b.db")
	code, _, stderr := opsRun(t, []string{"backup", "--data", data, file}, nil)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "the bot: writing backup")
	assert.Contains(t, stderr, "database not open")
	leftovers, err := filepath.Glob(file + "*")
	require.NoError(t, err)
	assert.Empty(t, leftovers, "neither the file nor its temporary copy is left")
}
