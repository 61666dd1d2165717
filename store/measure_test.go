package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"mobilise/bot"

	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

// realisticContact is contact i as the bot keeps a person who finished
// onboarding, pledged and signed up: Arabic name, a Telegram and a WhatsApp
// address, consent, governorate, share code and times.
func realisticContact(id uint64, i int, at time.Time) *Contact {
	return &Contact{
		ID: id, Addresses: []bot.Address{{Channel: bot.Telegram, ID: fmt.Sprintf("%d", 5_000_000_000+i)}, {Channel: bot.WhatsApp, ID: fmt.Sprintf("970599%06d", i)}},
		Name: fmt.Sprintf("سمر خليل الأحمد %d", i), Lang: "ar", Consent: true, ConsentAt: at, OnboardedAt: at,
		Governorate: "nablus", RefCode: fmt.Sprintf("k%06d", i), CreatedAt: at, SeenAt: at, PreferredChannel: "telegram",
	}
}

// fillContacts writes n realistic contacts straight into the buckets, in the
// layout of contacts.go (record, address index, share-code index), each with
// a pledge to one of five campaigns and a session, thousands per
// transaction: building 200,000 through EnsureContact would take minutes.
func fillContacts(tb testing.TB, s *Store, n int) {
	tb.Helper()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range 5 {
		require.NoError(tb, s.CreateCampaign(context.Background(), &Campaign{Code: fmt.Sprintf("c%d", i), TitleAR: "عهد السلام", Kind: KindBoth, StartAt: at}))
	}
	const perTx = 10_000
	for start := 0; start < n; start += perTx {
		require.NoError(tb, s.DB().Update(func(tx *bbolt.Tx) error {
			contacts := tx.Bucket(bucketContacts)
			for i := start; i < min(start+perTx, n); i++ {
				id, err := contacts.NextSequence()
				if err != nil {
					return err
				}
				c := realisticContact(id, i, at)
				if err := putContact(tx, c, nil); err != nil {
					return err
				}
				for _, a := range c.Addresses {
					if err := tx.Bucket(bucketAddresses).Put(addrKey(a), itob(id)); err != nil {
						return err
					}
				}
				if err := tx.Bucket(bucketRefCodes).Put([]byte(c.RefCode), itob(id)); err != nil {
					return err
				}
				cid := uint64(i%5 + 1)
				p := Pledge{CampaignID: cid, ContactID: id, At: at, Channel: "telegram", Governorate: "nablus", Lang: "ar"}
				if err := putJSON(tx.Bucket(bucketPledges), pairKey(cid, id), p); err != nil {
					return err
				}
				if err := joinRelation(tx, segPledged, itob(cid), id); err != nil {
					return err
				}
				sess := Session{Flow: "menu", Menu: &Menu{ID: "m1", Options: []string{"pledge", "signup", "share"}}, UpdatedAt: at}
				if err := putJSON(tx.Bucket(bucketSessions), itob(id), sess); err != nil {
					return err
				}
			}
			counts := Counts{Pledges: n / 5}
			for cid := uint64(1); cid <= 5; cid++ {
				if err := putJSON(tx.Bucket(bucketCounters), itob(cid), counts); err != nil {
					return err
				}
			}
			return nil
		}))
	}
}

// BenchmarkCheckAtOpen measures checkFile, the check Open runs before
// anything else, on a file of 200,000 realistic contacts (fillContacts):
// "cold" with the file evicted from the page cache first, as after a
// reboot, "warm" as at a restart.
//
//	go test -run '^$' -bench BenchmarkCheckAtOpen -benchtime 3x ./store/
func BenchmarkCheckAtOpen(b *testing.B) {
	path := filepath.Join(b.TempDir(), "mobilise.db")
	s, err := Open(path)
	require.NoError(b, err)
	s.DB().NoSync = true // a bulk load; Close makes it durable
	fillContacts(b, s, 200_000)
	require.NoError(b, s.Check(), "the filled file is consistent")
	require.NoError(b, s.Close())
	fi, err := os.Stat(path)
	require.NoError(b, err)
	b.Logf("%s: %d MB", path, fi.Size()>>20)

	for _, run := range []struct {
		name  string
		cold  bool
		check func(string) error
	}{
		{"cold", true, checkFile},
		{"warm", false, checkFile},
		// what reading the file through first saves: the check alone reads
		// the pages one at a time, in tree order
		{"cold-without-reading-first", true, func(path string) error {
			db, err := openBolt(path, &bbolt.Options{ReadOnly: true})
			if err != nil {
				return err
			}
			return errors.Join(checkDB(db), db.Close())
		}},
	} {
		b.Run(run.name, func(b *testing.B) {
			for b.Loop() {
				if run.cold {
					b.StopTimer()
					evict(b, path)
					b.StartTimer()
				}
				require.NoError(b, run.check(path))
			}
			b.ReportMetric(float64(fi.Size()>>20), "MB")
		})
	}
}

// BenchmarkSnapshot measures a backup of 200,000 realistic contacts
// (fillContacts): the whole Snapshot, and the part of it that holds a read
// transaction of the live database open (copyPages), during which a write
// that must grow the file waits.
//
//	go test -run '^$' -bench BenchmarkSnapshot -benchtime 3x ./store/
func BenchmarkSnapshot(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "mobilise.db"))
	require.NoError(b, err)
	defer s.Close()
	s.DB().NoSync = true
	fillContacts(b, s, 200_000)
	var readTx time.Duration
	var size int64
	for b.Loop() {
		f, err := s.Snapshot()
		require.NoError(b, err)
		fi, err := f.Stat()
		require.NoError(b, err)
		size = fi.Size()
		require.NoError(b, f.Close())

		b.StopTimer()
		raw, err := newTempFile(s.Path(), snapshotInfix)
		require.NoError(b, err)
		began := time.Now()
		require.NoError(b, s.copyPages(raw))
		readTx += time.Since(began)
		require.NoError(b, os.Remove(raw))
		b.StartTimer()
	}
	live, err := os.Stat(s.Path())
	require.NoError(b, err)
	b.ReportMetric(float64(readTx.Milliseconds())/float64(b.N), "ms-read-tx")
	b.ReportMetric(float64(live.Size()>>20), "MB-live")
	b.ReportMetric(float64(size>>20), "MB-backup")
}

// BenchmarkBackupAfterForgetting builds 10,000 people through the store's
// own methods (EnsureContact, UpdateContact, AddPledge, AddSignup), then
// reports the sizes of the live file, of a page copy (tx.WriteTo, what a
// backup used to be) and of a backup, before and after 1,000 of them are
// forgotten.
//
//	go test -run '^$' -bench BenchmarkBackupAfterForgetting -benchtime 1x ./store/
func BenchmarkBackupAfterForgetting(b *testing.B) {
	const people, forgotten = 10_000, 1_000
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		s, err := Open(filepath.Join(dir, "mobilise.db"))
		require.NoError(b, err)
		s.DB().NoSync = true
		camp := &Campaign{Code: "peace", TitleAR: "عهد السلام", Kind: KindBoth, StartAt: time.Now().Add(-time.Hour)}
		require.NoError(b, s.CreateCampaign(context.Background(), camp))
		var wg sync.WaitGroup
		errs := make(chan error, people)
		for w := range 16 {
			wg.Go(func() {
				for i := w; i < people; i += 16 {
					errs <- onboard(s, camp.ID, i)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(b, err)
		}

		sizes := func(label string) {
			live, err := os.Stat(s.Path())
			require.NoError(b, err)
			var pages bytes.Buffer
			require.NoError(b, s.view(func(tx *bbolt.Tx) error { _, err := tx.WriteTo(&pages); return err }))
			backup := filepath.Join(dir, label+".db")
			require.NoError(b, s.BackupTo(backup))
			bfi, err := os.Stat(backup)
			require.NoError(b, err)
			b.ReportMetric(float64(live.Size()), label+"-live-bytes")
			b.ReportMetric(float64(pages.Len()), label+"-pagecopy-bytes")
			b.ReportMetric(float64(bfi.Size()), label+"-backup-bytes")
		}
		sizes("before")
		for id := uint64(1); id <= forgotten; id++ {
			require.NoError(b, s.ForgetContact(context.Background(), id))
		}
		sizes("after")
		require.NoError(b, s.Close())
		b.StartTimer()
	}
}

// onboard makes person i as a conversation would: the contact, their
// consent and governorate, a pledge and, for every third, a sign-up.
func onboard(s *Store, campaignID uint64, i int) error {
	c, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress(fmt.Sprintf("telegram:%d", 5_000_000_000+i)), fmt.Sprintf("سمر خليل الأحمد %d", i), "ar")
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if _, err := s.UpdateContact(context.Background(), c.ID, func(c *Contact) error {
		c.Consent, c.ConsentAt, c.OnboardedAt, c.Governorate = true, now, now, "nablus"
		return nil
	}); err != nil {
		return err
	}
	if _, err := s.AddPledge(context.Background(), Pledge{CampaignID: campaignID, ContactID: c.ID, Channel: "telegram", Governorate: "nablus", Lang: "ar"}); err != nil {
		return err
	}
	if i%3 == 0 {
		if _, err := s.AddSignup(context.Background(), Signup{CampaignID: campaignID, ContactID: c.ID, Channel: "telegram"}); err != nil {
			return err
		}
	}
	return nil
}
