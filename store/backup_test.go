package store

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBackupWhileWriting(t *testing.T) {
	s, _ := openTestStore(t)
	c := campaign(t, s, "peace", 0)
	const people = 400
	require.NoError(t, bulkContacts(s, people))
	for id := uint64(1); id <= 100; id++ {
		_, err := s.AddPledge(Pledge{CampaignID: c.ID, ContactID: id})
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
				_, err := s.AddPledge(Pledge{CampaignID: c.ID, ContactID: id})
				assert.NoError(t, err)
				_, err = s.AddSignup(Signup{CampaignID: c.ID, ContactID: id})
				assert.NoError(t, err)
				_, _, err = s.EnsureContact(fmt.Sprintf("telegram:%d", id), "", "")
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
	counts, err := restored.Counts(c.ID)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, counts.Pledges, 100)
	n := 0
	require.NoError(t, restored.Pledges(c.ID, func(*Pledge) error { n++; return nil }))
	assert.Equal(t, counts.Pledges, n)
	got, err := restored.CampaignByCode("peace")
	require.NoError(t, err)
	assert.Equal(t, c.ID, got.ID)
	contact, err := restored.ContactByAddress("console:1")
	require.NoError(t, err)
	assert.Equal(t, uint64(1), contact.ID)
}

func TestWriteBackup(t *testing.T) {
	s, _ := openTestStore(t)
	c, _, err := s.EnsureContact("telegram:1", "Nour", "ar")
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
	got, err := copied.Contact(c.ID)
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
