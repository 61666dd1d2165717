package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"mobilise/bot"
	"mobilise/messages"
	"mobilise/store"
)

func TestCorruptionGuard(t *testing.T) {
	data := t.TempDir()
	var logs bytes.Buffer
	base := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelError}))
	ctx, log, g := guardCorruption(t.Context(), data, base)
	defer g.stop()

	log.Warn("sending", "error", errors.New("timeout"))
	log.With("comp", "outbox").Error("reading the outbox", "error", fmt.Errorf("listing: %w", os.ErrClosed))
	require.NoError(t, ctx.Err(), "other errors do not stop the bot")
	assert.Equal(t, "plain", g.explain(errors.New("plain")).Error())

	damage := fmt.Errorf("loading contact console:user: %w: assertion failed", store.ErrCorrupt)
	log.With("comp", "bot").WithGroup("turn").Warn("handling message", slog.Group("cause", "error", damage))
	require.ErrorIs(t, ctx.Err(), context.Canceled, "a warning the level hides still stops the bot")
	assert.NotContains(t, logs.String(), "handling message", "and stays hidden")
	assert.Contains(t, logs.String(), "reading the outbox", "records pass through")

	err := g.explain(nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the database "+filepath.Join(data, dbFileName)+" is damaged")
	assert.Contains(t, err.Error(), "assertion failed")
	assert.Contains(t, err.Error(), "No backup was found in "+filepath.Join(data, backupsDirName))

	// with backups, the newest is named, with the commands that restore it
	dir := filepath.Join(data, backupsDirName)
	require.NoError(t, os.MkdirAll(dir, 0o700))
	older, newer := filepath.Join(dir, "mobilise-20260101T000000Z.db"), filepath.Join(dir, "mobilise-20260102T000000Z.db")
	for i, path := range []string{older, newer} {
		require.NoError(t, os.WriteFile(path, []byte("copy"), 0o600))
		at := time.Now().Add(time.Duration(i-2) * time.Hour)
		require.NoError(t, os.Chtimes(path, at, at))
	}
	err = g.explain(nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "The newest backup is "+newer)
	db := filepath.Join(data, dbFileName)
	assert.Contains(t, err.Error(), "  mv "+db+" "+db+".damaged\n  cp "+newer+" "+db+"\n")
}

func TestShellQuote(t *testing.T) {
	assert.Equal(t, "/var/lib/mobilise/mobilise.db", shellQuote("/var/lib/mobilise/mobilise.db"))
	assert.Equal(t, "'/srv/my backups/b.db'", shellQuote("/srv/my backups/b.db"))
	assert.Equal(t, `'it'\''s'`, shellQuote("it's"))
	assert.Equal(t, "''", shellQuote(""))
}

// damageKind overwrites with random bytes every page of the database at path
// whose kind (as bbolt's tx.Page says, read from a copy: the file itself may
// be locked by a running bot) is one of kinds, and returns how many it did.
func damageKind(t *testing.T, path string, kinds ...string) int {
	t.Helper()
	whole, err := os.ReadFile(path)
	require.NoError(t, err)
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	require.NoError(t, os.WriteFile(copyPath, whole, 0o600))
	db, err := bbolt.Open(copyPath, 0o600, &bbolt.Options{ReadOnly: true, PreLoadFreelist: true})
	require.NoError(t, err)
	var pages []int
	require.NoError(t, db.View(func(tx *bbolt.Tx) error {
		for id := 2; id < int(tx.Size())/os.Getpagesize(); id++ {
			info, err := tx.Page(id)
			if err != nil {
				return err
			}
			for _, k := range kinds {
				if info.Type == k {
					pages = append(pages, id)
				}
			}
			if info.Type != "free" {
				id += info.OverflowCount
			}
		}
		return nil
	}))
	require.NoError(t, db.Close())
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	require.NoError(t, err)
	junk := make([]byte, os.Getpagesize())
	for _, id := range pages {
		_, _ = rand.Read(junk)
		_, err := f.WriteAt(junk, int64(id*len(junk)))
		require.NoError(t, err)
	}
	require.NoError(t, f.Close())
	return len(pages)
}

// damageRoot overwrites with random bytes the root page of the database's
// bucket at path (read from a copy, as damageKind), so that any look-up in
// the bucket meets the damage, and nothing else does.
func damageRoot(t *testing.T, path, bucket string) {
	t.Helper()
	whole, err := os.ReadFile(path)
	require.NoError(t, err)
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	require.NoError(t, os.WriteFile(copyPath, whole, 0o600))
	db, err := bbolt.Open(copyPath, 0o600, &bbolt.Options{ReadOnly: true})
	require.NoError(t, err)
	var root int64
	require.NoError(t, db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return fmt.Errorf("no bucket %q", bucket)
		}
		root = int64(b.Root())
		return nil
	}))
	require.NoError(t, db.Close())
	require.NotZero(t, root, "bucket %q is inline: it has no page of its own", bucket)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	require.NoError(t, err)
	junk := make([]byte, os.Getpagesize())
	_, _ = rand.Read(junk)
	_, err = f.WriteAt(junk, root*int64(len(junk)))
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// damagedSetup is a data directory with a database of a few people and a
// backup of it in backups/, made with `mobilise backup`.
func damagedSetup(t *testing.T) (data, backup string) {
	t.Helper()
	st, data := opsStore(t)
	opsSeed(t, st)
	require.NoError(t, st.Close())
	code, stdout, stderr := opsRun(t, []string{"backup", "--data", data}, nil)
	require.Equal(t, 0, code, stderr)
	first, _, _ := strings.Cut(stdout, "\n")
	backup, ok := strings.CutPrefix(first, "backup written to ")
	require.True(t, ok, stdout)
	return data, backup
}

// assertCleanStop checks the end of a bot that found its database damaged:
// exit code 1, a message naming the backup, and nothing of a crash.
func assertCleanStop(t *testing.T, code int, stderr, data, backup string) {
	t.Helper()
	assert.Equal(t, 1, code, stderr)
	assert.Contains(t, stderr, "The newest backup is "+backup)
	assert.Contains(t, stderr, "cp "+backup+" "+filepath.Join(data, dbFileName))
	assert.NotContains(t, strings.ToLower(stderr), "panic")
	assert.NotContains(t, stderr, "goroutine")
}

// TestDamagedDatabaseStopsTheProgram runs the real program on a database
// whose leaf pages were damaged before it started, and on one damaged under
// the running bot: both times it must stop with exit code 1 and name the
// backup to restore, without a stack trace.
func TestDamagedDatabaseStopsTheProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program")
	}
	bin := mobiliseBinary(t)
	env := func(data string) []string { return []string{"MOBILISE_DATA=" + data} }

	t.Run("at start", func(t *testing.T) {
		data, backup := damagedSetup(t)
		require.Positive(t, damageKind(t, filepath.Join(data, dbFileName), "leaf"))
		var stderr bytes.Buffer
		cmd := exec.Command(bin, "--console")
		cmd.Env, cmd.Stdin, cmd.Stderr = env(data), strings.NewReader("/start\n"), &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit)
		assertCleanStop(t, exit.ExitCode(), stderr.String(), data, backup)
		assert.Contains(t, stderr.String(), "the file was left untouched")
	})

	t.Run("while running", func(t *testing.T) {
		data, backup := damagedSetup(t)
		var stdout, stderr syncWriter
		cmd := exec.Command(bin, "--console")
		cmd.Env, cmd.Stdout, cmd.Stderr = env(data), &stdout, &stderr
		typing, err := cmd.StdinPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		exited := make(chan struct{})
		var waitErr error
		go func() { waitErr = cmd.Wait(); close(exited) }()
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-exited
		})

		greeting := "< " + strings.SplitN(catalog(t).Text("ar", messages.StartGreeting, nil), "\n", 2)[0]
		_, err = io.WriteString(typing, "/start\n")
		require.NoError(t, err)
		waitFor(t, nil, 20*time.Second, "the bot's first answer", func() bool { return strings.Contains(stdout.String(), greeting) })
		time.Sleep(300 * time.Millisecond) // the answer's own writes are done
		require.Positive(t, damageKind(t, filepath.Join(data, dbFileName), "leaf", "branch"))
		_, err = io.WriteString(typing, ":as nour\n/start\n")
		require.NoError(t, err)

		select {
		case <-exited:
		case <-time.After(40 * time.Second):
			t.Fatalf("the bot did not stop on the damage; its log:\n%s", stderr.String())
		}
		var exit *exec.ExitError
		require.ErrorAs(t, waitErr, &exit)
		assertCleanStop(t, exit.ExitCode(), stderr.String(), data, backup)
		assert.Contains(t, stderr.String(), "the bot stopped rather than go on over the damage")
		t.Logf("the bot's last words:\n%s", stderr.String())
	})
	t.Run("met only by an answer in the terminal", func(t *testing.T) {
		// the addresses are read when a message comes in and by nothing
		// else the bot does on its own: the answer alone meets the damage
		data, backup := damagedSetup(t)
		st, err := store.Open(filepath.Join(data, dbFileName))
		require.NoError(t, err)
		for i := range 200 {
			_, _, err := st.EnsureContact(context.Background(), bot.Address{Channel: bot.Console, ID: fmt.Sprintf("person%03d", i)}, "", "ar")
			require.NoError(t, err)
		}
		require.NoError(t, st.Close())
		var stdout, stderr syncWriter
		cmd := exec.Command(bin, "--console")
		cmd.Env, cmd.Stdout, cmd.Stderr = env(data), &stdout, &stderr
		typing, err := cmd.StdinPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		exited := make(chan struct{})
		var waitErr error
		go func() { waitErr = cmd.Wait(); close(exited) }()
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-exited
		})

		greeting := "< " + strings.SplitN(catalog(t).Text("ar", messages.StartGreeting, nil), "\n", 2)[0]
		_, err = io.WriteString(typing, "/start\n")
		require.NoError(t, err)
		waitFor(t, nil, 20*time.Second, "the bot's first answer", func() bool { return strings.Contains(stdout.String(), greeting) })
		time.Sleep(300 * time.Millisecond) // the answer's own writes are done
		damageRoot(t, filepath.Join(data, dbFileName), "addresses")
		_, err = io.WriteString(typing, ":as nour\n/start\n")
		require.NoError(t, err)

		select {
		case <-exited:
		case <-time.After(40 * time.Second):
			t.Fatalf("the bot did not stop on the damage; it printed:\n%s\nits log:\n%s", stdout.String(), stderr.String())
		}
		var exit *exec.ExitError
		require.ErrorAs(t, waitErr, &exit)
		assertCleanStop(t, exit.ExitCode(), stderr.String(), data, backup)
		assert.Contains(t, stderr.String(), "the bot stopped rather than go on over the damage")
	})
}
