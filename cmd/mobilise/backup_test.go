package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"mobilise/bot"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/store"
)

// TestBackupWithoutAFile writes backups to the data directory's backups/
// when no file is named, as the bot does not run and as it does, and checks
// that newestBackup names the newest of them, or the file the last
// `mobilise backup FILE` wrote if that is newer.
func TestBackupWithoutAFile(t *testing.T) {
	st, data := opsStore(t)
	opsSeed(t, st)
	require.NoError(t, st.Close())
	_, ok := newestBackup(data)
	assert.False(t, ok, "no backup yet")

	code, stdout, stderr := opsRun(t, []string{"backup", "--data", data}, nil)
	require.Equal(t, 0, code, stderr)
	m := regexp.MustCompile(`^backup written to (\S+/backups/mobilise-\d{8}T\d{6}Z(-\d+)?\.db)\nmedia: 0 new files \(0 bytes\) copied to \S+/backups/media\n$`).FindStringSubmatch(stdout)
	require.NotNil(t, m, stdout)
	first := m[1]
	require.NoError(t, store.VerifyCopy(first))
	fi, err := os.Stat(filepath.Join(data, backupsDirName))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	got, ok := newestBackup(data)
	require.True(t, ok)
	assert.Equal(t, first, got.path)

	// a backup named elsewhere is noted, and is the newest
	elsewhere := filepath.Join(t.TempDir(), "offsite.db")
	require.NoError(t, os.Chtimes(first, time.Now().Add(-time.Hour), time.Now().Add(-time.Hour)))
	code, _, stderr = opsRun(t, []string{"backup", "--data", data, elsewhere}, nil)
	require.Equal(t, 0, code, stderr)
	got, ok = newestBackup(data)
	require.True(t, ok)
	assert.Equal(t, elsewhere, got.path)
	record, err := os.ReadFile(filepath.Join(data, backupsDirName, latestBackupName))
	require.NoError(t, err)
	assert.Equal(t, elsewhere+"\n", string(record))

	// from the running bot, into backups/ again: now the newest
	st, err = store.Open(filepath.Join(data, dbFileName))
	require.NoError(t, err)
	defer st.Close()
	runningBot(t, st, data)
	require.NoError(t, os.Chtimes(elsewhere, time.Now().Add(-time.Minute), time.Now().Add(-time.Minute)))
	code, stdout, stderr = opsRun(t, []string{"backup", "--data", data}, nil)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "(from the running bot)")
	got, ok = newestBackup(data)
	require.True(t, ok)
	assert.NotEqual(t, elsewhere, got.path)
	assert.True(t, strings.HasPrefix(got.path, filepath.Join(data, backupsDirName)), got.path)

	// a noted backup moved away since is not named
	require.NoError(t, os.Remove(got.path))
	require.NoError(t, os.Remove(elsewhere))
	got, ok = newestBackup(data)
	require.True(t, ok)
	assert.Equal(t, first, got.path)
}

// TestBackupHoldsNothingForgotten checks, through the command and the
// running bot, that a backup made after /forget has no trace of the person,
// while the live file still has it until `mobilise compact`.
func TestBackupHoldsNothingForgotten(t *testing.T) {
	st, data := opsStore(t)
	opsSeed(t, st) // forgets "Gone", telegram:777
	wa, err := st.ContactByAddress(context.Background(), bot.Address{Channel: bot.WhatsApp, ID: opsPhone})
	require.NoError(t, err)
	require.NoError(t, st.ForgetContact(context.Background(), wa.ID))
	live, err := os.ReadFile(st.Path())
	require.NoError(t, err)
	require.True(t, bytes.Contains(live, []byte(opsPersonName)), "bbolt leaves it in a free page of the live file")

	runningBot(t, st, data)
	file := filepath.Join(t.TempDir(), "b.db")
	code, _, stderr := opsRun(t, []string{"backup", "--data", data, file}, nil)
	require.Equal(t, 0, code, stderr)
	backup, err := os.ReadFile(file)
	require.NoError(t, err)
	for _, needle := range []string{opsPersonName, opsPhone, "Gone", "telegram:777"} {
		assert.False(t, bytes.Contains(backup, []byte(needle)), "the backup holds %q", needle)
	}
	assert.True(t, bytes.Contains(backup, []byte("Omar")), "and the people not forgotten")
}

func TestCompactCommand(t *testing.T) {
	st, data := opsStore(t)
	opsSeed(t, st)
	wa, err := st.ContactByAddress(context.Background(), bot.Address{Channel: bot.WhatsApp, ID: opsPhone})
	require.NoError(t, err)
	require.NoError(t, st.ForgetContact(context.Background(), wa.ID))

	code, _, stderr := opsRun(t, []string{"compact", "--data", data}, nil)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "the bot is running; stop it first")
	require.NoError(t, st.Close())

	code, stdout, stderr := opsRun(t, []string{"compact", "--data", data}, nil)
	require.Equal(t, 0, code, stderr)
	assert.Regexp(t, `^compacted \S+mobilise\.db: [\d.]+ [kM]B before, [\d.]+ [kM]B after \(\d+ and \d+ bytes\)\n$`, stdout)
	path := filepath.Join(data, dbFileName)
	live, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.False(t, bytes.Contains(live, []byte(opsPersonName)), "compact clears the free pages")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	// the bot starts on the compacted file and knows everyone left
	res := runMain(t, t.Context(), []string{"stats", "--data", data}, nil, "")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "peace")

	code, _, stderr = opsRun(t, []string{"compact", "--data", filepath.Join(t.TempDir(), "none")}, nil)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "is --data right?")
}
