package store

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"mobilise/bot"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

// testClock is an injectable clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// openTestStore opens a store in a fresh temporary directory, closed at the
// end of the test after checking its consistency.
func openTestStore(t testing.TB, opts ...Option) (*Store, *testClock) {
	t.Helper()
	clock := newTestClock()
	s, err := Open(filepath.Join(t.TempDir(), "data", "mobilise.db"), append([]Option{WithNow(clock.Now), WithBatchDelay(time.Millisecond)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() {
		if !t.Failed() {
			assert.NoError(t, s.Check(), "store consistency at the end of the test")
		}
		assert.NoError(t, s.Close())
	})
	return s, clock
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "data")
	path := filepath.Join(dir, "mobilise.db")
	s, err := Open(path)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()

	assert.Equal(t, path, s.Path())
	assert.NotNil(t, s.DB())
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	fi, err = os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	require.NoError(t, s.DB().View(func(tx *bbolt.Tx) error {
		assert.Equal(t, migrations[len(migrations)-1].version, schemaVersion(tx))
		return nil
	}))
}

func TestOpenReopensWithData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mobilise.db")
	s, err := Open(path)
	require.NoError(t, err)
	c, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:1"), "Salma", "ar")
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s, err = Open(path)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	got, err := s.Contact(context.Background(), c.ID)
	require.NoError(t, err)
	assert.Equal(t, "Salma", got.Name)
}

func TestOpenEmptyFileIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mobilise.db")
	require.NoError(t, os.WriteFile(path, nil, 0o600))
	_, err := Open(path)
	require.ErrorIs(t, err, ErrCorrupt, "a database truncated to nothing must not start afresh")
	assert.Contains(t, err.Error(), "mobilise backup")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Zero(t, fi.Size(), "the file is left untouched")
}

func TestOpenInUseFailsFast(t *testing.T) {
	s, _ := openTestStore(t)
	start := time.Now()
	_, err := Open(s.Path())
	require.ErrorIs(t, err, ErrInUse)
	assert.Contains(t, err.Error(), "in use by another process")
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestOpenCorruptFile(t *testing.T) {
	// a real database with enough data that truncating it cuts pages in use
	realDB := func(t *testing.T) []byte {
		path := filepath.Join(t.TempDir(), "real.db")
		s, err := Open(path)
		require.NoError(t, err)
		require.NoError(t, s.DB().Update(func(tx *bbolt.Tx) error {
			b := tx.Bucket(bucketAudit)
			for i := range 2000 {
				if err := b.Put(itob(uint64(i)), bytes.Repeat([]byte("x"), 200)); err != nil {
					return err
				}
			}
			return nil
		}))
		var used int64
		require.NoError(t, s.DB().View(func(tx *bbolt.Tx) error { used = tx.Size(); return nil }))
		require.NoError(t, s.Close())
		buf, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Greater(t, used, int64(100_000))
		return buf[:used]
	}
	cases := []struct {
		label string
		data  func(t *testing.T) []byte
	}{
		{"garbage", func(*testing.T) []byte { return bytes.Repeat([]byte("not a database. "), 4096) }},
		{"short garbage", func(*testing.T) []byte { return []byte("hello") }},
		{"text file", func(*testing.T) []byte { return []byte("MOBILISE_DATA=./data\n") }},
		{"truncated to half", func(t *testing.T) []byte { b := realDB(t); return b[:len(b)/2] }},
		{"truncated inside the second meta page", func(t *testing.T) []byte { return realDB(t)[:5000] }},
		{"both meta pages damaged", func(t *testing.T) []byte {
			b := realDB(t)
			copy(b[16:64], bytes.Repeat([]byte{0xff}, 48))
			copy(b[4096+16:4096+64], bytes.Repeat([]byte{0xff}, 48))
			return b
		}},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "mobilise.db")
			data := tc.data(t)
			require.NoError(t, os.WriteFile(path, data, 0o640))
			before, err := os.Stat(path)
			require.NoError(t, err)

			s, err := Open(path)
			require.ErrorIs(t, err, ErrCorrupt)
			assert.Nil(t, s)
			assert.Contains(t, err.Error(), path)
			assert.Contains(t, err.Error(), "mobilise backup")
			assert.Contains(t, err.Error(), "untouched")

			after, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(data, after), "file content changed")
			fi, err := os.Stat(path)
			require.NoError(t, err)
			assert.Equal(t, before.Mode(), fi.Mode())
			assert.Equal(t, before.ModTime(), fi.ModTime())
		})
	}
}

// addrList parses "channel:id" addresses.
func addrList(ss ...string) []bot.Address {
	out := make([]bot.Address, len(ss))
	for i, s := range ss {
		out[i] = bot.MustParseAddress(s)
	}
	return out
}
