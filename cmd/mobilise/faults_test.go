package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

// TestDamagedDatabaseAtStartUp starts the bot on a database file that is not
// sound: it must stop with exit code 1 and an error that names the backup
// command, and leave the file exactly as it was, never starting afresh on a
// new empty database.
func TestDamagedDatabaseAtStartUp(t *testing.T) {
	cases := []struct {
		label  string
		damage func(t *testing.T, path string)
	}{
		{"not a database", func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, bytes.Repeat([]byte("not bbolt "), 2000), 0o600))
		}},
		{"truncated", func(t *testing.T, path string) {
			st, data := opsStore(t)
			opsSeed(t, st)
			// half of the pages in use: the file itself may be larger, grown ahead
			var used int64
			require.NoError(t, st.DB().View(func(tx *bbolt.Tx) error { used = tx.Size(); return nil }))
			require.NoError(t, st.Close())
			whole, err := os.ReadFile(filepath.Join(data, dbFileName))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(path, whole[:used/2], 0o600))
		}},
		{"cut inside the first page", func(t *testing.T, path string) {
			st, data := opsStore(t)
			require.NoError(t, st.Close())
			whole, err := os.ReadFile(filepath.Join(data, dbFileName))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(path, whole[:100], 0o600))
		}},
		{"meta pages overwritten", func(t *testing.T, path string) {
			st, data := opsStore(t)
			opsSeed(t, st)
			require.NoError(t, st.Close())
			whole, err := os.ReadFile(filepath.Join(data, dbFileName))
			require.NoError(t, err)
			// both meta pages (the first two 4 KiB pages) damaged: no good copy left
			for _, off := range []int{16, 4096 + 16} {
				copy(whole[off:off+64], bytes.Repeat([]byte{0xAB}, 64))
			}
			require.NoError(t, os.WriteFile(path, whole, 0o600))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			require.NoError(t, os.MkdirAll(data, 0o700))
			path := filepath.Join(data, dbFileName)
			tc.damage(t, path)
			before, err := os.ReadFile(path)
			require.NoError(t, err)

			code, _, stderr := opsRun(t, []string{"--console"}, map[string]string{"MOBILISE_DATA": data})
			assert.Equal(t, 1, code)
			assert.Contains(t, stderr, "mobilise backup")
			assert.Contains(t, stderr, path)
			after, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(before, after), "the damaged file is left untouched")

			// the maintenance commands refuse it the same way
			code, _, stderr = opsRun(t, []string{"stats", "--data", data}, nil)
			assert.Equal(t, 1, code)
			assert.Contains(t, stderr, "mobilise backup")
		})
	}
}

// TestDataDirectoryModes checks that a first start creates the data directory
// for the bot's user alone and the database readable by it alone.
func TestDataDirectoryModes(t *testing.T) {
	data := filepath.Join(t.TempDir(), "new", "data")
	code, _, stderr := opsRun(t, []string{"--console"}, map[string]string{"MOBILISE_DATA": data})
	require.Equal(t, 0, code, stderr)
	for path, want := range map[string]os.FileMode{
		data:                            0o700,
		filepath.Join(data, dbFileName): 0o600,
	} {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, want, fi.Mode().Perm(), path)
	}
}
