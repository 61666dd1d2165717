package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"mobilise/bot"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBackupWhileWriting(t *testing.T) {
	s, _ := openTestStore(t)
	c := campaign(t, s, "peace", 0)
	const people = 400
	require.NoError(t, bulkContacts(s, people))
	for id := uint64(1); id <= 100; id++ {
		_, err := s.AddPledge(context.Background(), Pledge{CampaignID: c.ID, ContactID: id})
		require.NoError(t, err)
	}

	// writers keep pledging, signing up and creating contacts during the backup
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for id := uint64(101 + w); id <= people; id += 8 {
				if ctx.Err() != nil {
					return
				}
				_, err := s.AddPledge(context.Background(), Pledge{CampaignID: c.ID, ContactID: id})
				assert.NoError(t, err)
				_, err = s.AddSignup(context.Background(), Signup{CampaignID: c.ID, ContactID: id})
				assert.NoError(t, err)
				_, _, err = s.EnsureContact(context.Background(), bot.MustParseAddress(fmt.Sprintf("telegram:%d", id)), "", "")
				assert.NoError(t, err)
			}
		})
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "backup.db")
	err := s.BackupTo(path)
	cancel()
	wg.Wait()
	require.NoError(t, err)

	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	_, err = os.Stat(path + ".tmp")
	assert.ErrorIs(t, err, os.ErrNotExist)

	restored, err := Open(path)
	require.NoError(t, err)
	defer func() { require.NoError(t, restored.Close()) }()
	require.NoError(t, restored.Check(), "counters equal the records and indexes agree")
	counts, err := restored.Counts(context.Background(), c.ID)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, counts.Pledges, 100)
	n := 0
	require.NoError(t, restored.Pledges(context.Background(), c.ID, func(*Pledge) error { n++; return nil }))
	assert.Equal(t, counts.Pledges, n)
	got, err := restored.CampaignByCode(context.Background(), "peace")
	require.NoError(t, err)
	assert.Equal(t, c.ID, got.ID)
	contact, err := restored.ContactByAddress(context.Background(), bot.MustParseAddress("console:1"))
	require.NoError(t, err)
	assert.Equal(t, uint64(1), contact.ID)
}

func TestWriteBackup(t *testing.T) {
	s, _ := openTestStore(t)
	c, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:1"), "Nour", "ar")
	require.NoError(t, err)
	var buf bytes.Buffer
	n, err := s.WriteBackup(&buf)
	require.NoError(t, err)
	assert.Equal(t, int64(buf.Len()), n)

	path := filepath.Join(t.TempDir(), "copy.db")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o600))
	copied, err := Open(path)
	require.NoError(t, err)
	defer func() { require.NoError(t, copied.Close()) }()
	got, err := copied.Contact(context.Background(), c.ID)
	require.NoError(t, err)
	assert.Equal(t, "Nour", got.Name)
}

func TestBackupToReplacesOldCopyAndRefusesLiveFile(t *testing.T) {
	s, _ := openTestStore(t)
	path := filepath.Join(t.TempDir(), "backup.db")
	require.NoError(t, os.WriteFile(path, []byte("old backup"), 0o644))
	require.NoError(t, os.WriteFile(path+".tmp", []byte("stale"), 0o644))
	require.NoError(t, s.BackupTo(path))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	assert.Greater(t, fi.Size(), int64(len("old backup")))

	err = s.BackupTo(s.Path())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "live database")
	require.Error(t, s.BackupTo(filepath.Join(t.TempDir(), "missing", "dir", "b.db")))
}

// forgettable is a person whose traces the backup tests look for.
const (
	forgettableName = "Distinctive Forgettable Name"
	forgettableTG   = "telegram:7770001"
	forgettableWA   = "whatsapp:970599777000"
)

// storeWithForgotten fills a store with people, one of them forgettable,
// who pledged and signed up and is then forgotten. It returns the store and
// the ID of the last contact created.
func storeWithForgotten(t *testing.T) (*Store, uint64) {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "data", "mobilise.db"), WithBatchDelay(0))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() }) // TestCompact closes it first
	c := campaign(t, s, "peace", 0)
	for i := range 50 {
		p, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress(fmt.Sprintf("telegram:%d", 100+i)), fmt.Sprintf("Person %d", i), "ar")
		require.NoError(t, err)
		_, err = s.AddPledge(context.Background(), Pledge{CampaignID: c.ID, ContactID: p.ID, Channel: "telegram"})
		require.NoError(t, err)
	}
	p, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress(forgettableTG), forgettableName, "ar")
	require.NoError(t, err)
	_, err = s.UpdateContact(context.Background(), p.ID, func(c *Contact) error {
		c.Addresses = append(c.Addresses, bot.MustParseAddress(forgettableWA))
		return nil
	})
	require.NoError(t, err)
	_, err = s.AddPledge(context.Background(), Pledge{CampaignID: c.ID, ContactID: p.ID, Channel: "telegram", Governorate: "hebron"})
	require.NoError(t, err)
	_, err = s.AddSignup(context.Background(), Signup{CampaignID: c.ID, ContactID: p.ID, Channel: "whatsapp"})
	require.NoError(t, err)
	require.NoError(t, s.PutSession(context.Background(), p.ID, &Session{Flow: "register", Data: map[string]string{"name": forgettableName}}))
	last, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:999"), "Last", "en")
	require.NoError(t, err)
	require.NoError(t, s.ForgetContact(context.Background(), p.ID))
	return s, last.ID
}

// assertNoTrace fails if b holds any of the forgotten person's data.
func assertNoTrace(t *testing.T, what string, b []byte) {
	t.Helper()
	for _, needle := range []string{forgettableName, forgettableTG, forgettableWA, "7770001", "970599777000"} {
		assert.False(t, bytes.Contains(b, []byte(needle)), "%s holds %q", what, needle)
	}
}

func TestBackupsHoldNothingForgotten(t *testing.T) {
	s, lastID := storeWithForgotten(t)
	live, err := os.ReadFile(s.Path())
	require.NoError(t, err)
	assert.True(t, bytes.Contains(live, []byte(forgettableName)),
		"bbolt leaves the forgotten record in a free page of the live file: this is what backups must not copy")

	file := filepath.Join(t.TempDir(), "backup.db")
	require.NoError(t, s.BackupTo(file))
	backup, err := os.ReadFile(file)
	require.NoError(t, err)
	assertNoTrace(t, "BackupTo's copy", backup)

	var streamed bytes.Buffer
	_, err = s.WriteBackup(&streamed)
	require.NoError(t, err)
	assertNoTrace(t, "WriteBackup's copy", streamed.Bytes())
	assert.Less(t, streamed.Len(), len(live), "a compacted copy is smaller than the live file")

	// the copy is the whole live database, sequences included
	restored, err := Open(file)
	require.NoError(t, err)
	defer func() { require.NoError(t, restored.Close()) }()
	require.NoError(t, restored.Check())
	n := 0
	require.NoError(t, restored.Contacts(context.Background(), func(*Contact) error { n++; return nil }))
	assert.Equal(t, 51, n)
	counts, err := restored.Counts(context.Background(), 1)
	require.NoError(t, err)
	assert.Equal(t, Counts{Pledges: 51}, counts, "the forgotten person's pledge stays, anonymous; the sign-up went")
	next, _, err := restored.EnsureContact(context.Background(), bot.MustParseAddress("telegram:1000"), "New", "ar")
	require.NoError(t, err)
	assert.Equal(t, lastID+1, next.ID, "an ID is never given twice, even after a restore")
}

func TestCompact(t *testing.T) {
	s, _ := storeWithForgotten(t)
	path := s.Path()
	_, err := Compact(path)
	require.ErrorIs(t, err, ErrInUse, "never while the bot has the file open")
	require.NoError(t, s.Close())
	require.NoError(t, os.Chmod(path, 0o640))

	res, err := Compact(path)
	require.NoError(t, err)
	assert.Less(t, res.After, res.Before)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, res.After, fi.Size())
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	live, err := os.ReadFile(path)
	require.NoError(t, err)
	assertNoTrace(t, "the compacted file", live)
	leftovers, err := filepath.Glob(path + ".*")
	require.NoError(t, err)
	assert.Empty(t, leftovers)

	s, err = Open(path)
	require.NoError(t, err)
	require.NoError(t, s.Check())
	c, err := s.ContactByAddress(context.Background(), bot.MustParseAddress("telegram:999"))
	require.NoError(t, err)
	assert.Equal(t, "Last", c.Name)
	require.NoError(t, s.Close())
}

func TestCompactRefusesADamagedFile(t *testing.T) {
	path := smallDatabase(t)
	page := slices.Index(pageKinds(t, path), "leaf") // a page of records, wherever the layout puts one
	require.Positive(t, page)
	damagePage(t, path, page, rand.New(rand.NewPCG(3, 4)))
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	_, err = Compact(path)
	require.ErrorIs(t, err, ErrCorrupt)
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(before, after), "the damaged file is left as it was")
	leftovers, err := filepath.Glob(path + ".*")
	require.NoError(t, err)
	assert.Empty(t, leftovers)
}

func TestSnapshotLeavesNothingBehind(t *testing.T) {
	s, _ := storeWithForgotten(t)
	dir := filepath.Dir(s.Path())
	stale := filepath.Join(dir, filepath.Base(s.Path())+snapshotInfix+"123")
	require.NoError(t, os.WriteFile(stale, []byte("left by a crash"), 0o600))
	require.NoError(t, s.RemoveStaleSnapshots())
	_, err := os.Stat(stale)
	assert.ErrorIs(t, err, os.ErrNotExist)

	f, err := s.Snapshot()
	require.NoError(t, err)
	names, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, names, 1, "only the database: the snapshot's name is gone already")
	fi, err := f.Stat()
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	copied := filepath.Join(t.TempDir(), "copy.db")
	out, err := os.Create(copied)
	require.NoError(t, err)
	_, err = io.Copy(out, f)
	require.NoError(t, errors.Join(err, out.Close(), f.Close()))
	require.NoError(t, VerifyCopy(copied))
}

// TestStalledBackupReaderDoesNotStopWriters streams a backup to a reader
// that takes a few bytes and stops, as a suspended or stuck backup client
// would, and keeps writing meanwhile until the file has grown past its
// memory map: bbolt can only grow the map when no read transaction is
// open, so a backup that streamed from a read transaction would stall
// these writes until the reader went away.
func TestStalledBackupReaderDoesNotStopWriters(t *testing.T) {
	s, _ := openTestStore(t, WithBatchDelay(0))
	require.NoError(t, bulkContacts(s, 5000))
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := s.WriteBackup(pw)
		done <- err
	}()
	head := make([]byte, 16)
	_, err := io.ReadFull(pr, head) // the copy has started streaming, and stalls
	require.NoError(t, err)

	size := func() int64 {
		fi, err := os.Stat(s.Path())
		require.NoError(t, err)
		return fi.Size()
	}
	start := size()
	var slowest time.Duration
	for i := 0; size() < 2*start; i++ {
		began := time.Now()
		require.NoError(t, s.CreateInstitution(context.Background(), &Institution{NameAR: fmt.Sprintf("مؤسسة %d %s", i, strings.Repeat("س", 1500)), Field: "youth"}))
		slowest = max(slowest, time.Since(began))
		require.Less(t, i, 100_000, "the file never grew")
	}
	t.Logf("the file grew from %d to %d bytes while the backup stalled; slowest write %v", start, size(), slowest)
	assert.Less(t, slowest, 2*time.Second)
	select {
	case err := <-done:
		t.Fatalf("the backup ended while its reader stalled: %v", err)
	default:
	}

	require.NoError(t, pr.CloseWithError(errors.New("reader gone")))
	assert.ErrorContains(t, <-done, "reader gone")
	names, err := os.ReadDir(filepath.Dir(s.Path()))
	require.NoError(t, err)
	assert.Len(t, names, 1, "no temporary copy is left")
}
