package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"mobilise/bot"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

// smallDatabase builds, with the store's own methods, a database of a few
// dozen pages holding every kind of record: contacts (one forgotten, so
// there are free pages), an institution, campaigns, pledges, sign-ups,
// sessions, a broadcast whose long texts span overflow pages, its outbox,
// a reminder and audit entries. It returns the file's path, closed.
func smallDatabase(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mobilise.db")
	s, err := Open(path, WithBatchDelay(0))
	require.NoError(t, err)
	require.NoError(t, s.CreateInstitution(context.Background(), &Institution{NameAR: "مركز السلام", Field: "youth", Governorates: []string{"nablus"}, ContactPerson: "سمر"}))
	camp := &Campaign{Code: "peace", TitleAR: "عهد السلام", Kind: KindBoth, StartAt: time.Now().Add(-time.Hour)}
	require.NoError(t, s.CreateCampaign(context.Background(), camp))
	var entries []OutboxEntry
	for i := range 150 {
		c, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress(fmt.Sprintf("telegram:%d", 7_000_000+i)), fmt.Sprintf("سمر خليل %d", i), "ar")
		require.NoError(t, err)
		_, err = s.AddPledge(context.Background(), Pledge{CampaignID: camp.ID, ContactID: c.ID, Channel: "telegram", Governorate: "nablus", Lang: "ar"})
		require.NoError(t, err)
		if i%3 == 0 {
			_, err = s.AddSignup(context.Background(), Signup{CampaignID: camp.ID, ContactID: c.ID, Channel: "telegram"})
			require.NoError(t, err)
			require.NoError(t, s.PutSession(context.Background(), c.ID, &Session{Flow: "onboard", Step: "governorate", Data: map[string]string{"lang": "ar"}}))
		}
		entries = append(entries, OutboxEntry{To: c.Addresses[0], ContactID: c.ID, Text: strings.Repeat("نداء ", 900), Lang: "ar"})
	}
	b := &Broadcast{TextAR: strings.Repeat("نداء المصالحة ", 400), TextEN: strings.Repeat("Call for reconciliation ", 300), Audience: Audience{Kind: AudienceEveryone}}
	require.NoError(t, s.CreateBroadcast(context.Background(), b))
	require.NoError(t, s.QueueBroadcast(context.Background(), b.ID, entries[:20]))
	require.NoError(t, s.Enqueue(context.Background(), entries[20:23]...)) // texts of their own, each over a page
	require.NoError(t, s.CreateReminder(context.Background(), &Reminder{TextAR: "تذكير", Audience: Audience{Kind: AudienceEveryone}, Spec: "0 10 * * 5",
		NextFireAt: time.Now().Add(24 * time.Hour), Kind: ReminderCustom}))
	require.NoError(t, s.AppendAudit(context.Background(), AuditEntry{ActorID: 1, Action: "campaign.create"}))
	require.NoError(t, s.ForgetContact(context.Background(), 2))
	require.NoError(t, s.Check())
	require.NoError(t, s.Close())
	return path
}

// damagePage overwrites page i of the file at path with random bytes.
func damagePage(t *testing.T, path string, i int, rng *rand.Rand) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	require.NoError(t, err)
	junk := make([]byte, os.Getpagesize())
	for j := range junk {
		junk[j] = byte(rng.UintN(256))
	}
	_, err = f.WriteAt(junk, int64(i*len(junk)))
	require.NoError(t, errors.Join(err, f.Close()))
}

// exercise runs the store operations a conversation and the dispatcher
// make, and returns their errors.
func exercise(s *Store) map[string]error {
	errs := map[string]error{}
	note := func(op string, err error) {
		if err != nil {
			errs[op] = err
		}
	}
	c, err := s.ContactByAddress(context.Background(), bot.MustParseAddress("telegram:7000000"))
	note("ContactByAddress", err)
	note("Contacts", s.Contacts(context.Background(), func(*Contact) error { return nil }))
	camps, err := s.Campaigns(context.Background())
	note("Campaigns", err)
	if c != nil {
		_, err = s.Session(context.Background(), c.ID)
		if errors.Is(err, ErrNotFound) {
			err = nil
		}
		note("Session", err)
		_, err = s.UpdateContact(context.Background(), c.ID, func(c *Contact) error { c.Governorate = "jenin"; return nil })
		note("UpdateContact", err)
	}
	if len(camps) > 0 {
		_, err = s.CampaignStats(context.Background(), camps[0].ID)
		note("CampaignStats", err)
		_, err = s.UpdateCampaign(context.Background(), camps[0].ID, func(c *Campaign) error { c.Target = 500; return nil })
		note("UpdateCampaign", err)
	}
	note("Enqueue", s.Enqueue(context.Background(), OutboxEntry{To: bot.MustParseAddress("telegram:7000001"), ContactID: 1, Text: "مرحبا"}))
	pending, err := s.PendingOutbox(context.Background(), "telegram", true, 0, 50)
	note("PendingOutbox", err)
	_, err = s.Institutions(context.Background(), "")
	note("Institutions", err)
	_, err = s.Broadcasts(context.Background())
	note("Broadcasts", err)
	_, err = s.DueReminders(context.Background(), time.Now().Add(48*time.Hour))
	note("DueReminders", err)
	note("AppendAudit", s.AppendAudit(context.Background(), AuditEntry{ActorID: 1, Action: "test"}))
	note("ForgetContact", s.ForgetContact(context.Background(), 3))
	_, err = s.OutboxDepth(context.Background())
	note("OutboxDepth", err)
	_, _, err = s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:7000000"), "سمر الجديدة", "ar") // an existing person, renamed
	note("EnsureContact (existing)", err)
	fresh, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("whatsapp:970599000001"), "Nour", "en")
	note("EnsureContact (new)", err)
	if fresh != nil && len(camps) > 0 {
		_, err = s.AddPledge(context.Background(), Pledge{CampaignID: camps[0].ID, ContactID: fresh.ID, Channel: "whatsapp"})
		note("AddPledge", err)
		_, err = s.AddSignup(context.Background(), Signup{CampaignID: camps[0].ID, ContactID: fresh.ID, Channel: "whatsapp"})
		note("AddSignup", err)
		note("PutSession", s.PutSession(context.Background(), fresh.ID, &Session{Flow: "pledge"}))
	}
	if len(pending) > 0 {
		note("OutboxDone", s.OutboxDone(context.Background(), pending[0].ID))
	}
	return errs
}

// TestEveryDamagedPage overwrites each page of a small database in turn with
// random bytes, then opens it and runs the operations of a conversation.
// Nothing may panic: Open refuses the file with ErrCorrupt, or every
// operation succeeds or fails with ErrCorrupt. Damage to a page in use is
// refused at Open, a meta page included (bbolt could fall back on the other
// one, but its check reads both); damage to a free page is harmless.
func TestEveryDamagedPage(t *testing.T) {
	built := smallDatabase(t)
	pristine, err := os.ReadFile(built)
	require.NoError(t, err)
	pageSize := os.Getpagesize()
	kinds := pageKinds(t, built)
	require.Greater(t, len(kinds), 24, "a few dozen pages in use")
	rng := rand.New(rand.NewPCG(1, 2))
	dir := t.TempDir()

	refused := map[string]int{}
	for i := range len(pristine) / pageSize {
		kind := "past the end"
		if i < len(kinds) {
			kind = kinds[i]
		}
		path := filepath.Join(dir, fmt.Sprintf("damaged-%03d.db", i))
		require.NoError(t, os.WriteFile(path, pristine, 0o600))
		damagePage(t, path, i, rng)
		s, err := Open(path, WithBatchDelay(0))
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt, "page %d (%s)", i, kind)
			refused[kind]++
			continue
		}
		switch kind {
		case "meta", "free", "past the end":
		default:
			t.Errorf("damage to page %d (%s) was not seen at open", i, kind)
		}
		for op, err := range exercise(s) {
			assert.ErrorIs(t, err, ErrCorrupt, "page %d (%s): %s", i, kind, op)
		}
		require.NoError(t, s.Close())
	}
	count := map[string]int{}
	for _, k := range kinds {
		count[k]++
	}
	t.Logf("pages in use by kind %v; damage refused at open, by kind: %v", count, refused)
}

// pageKinds returns the kind of each page below the high-water mark of the
// database at path: meta, freelist, branch, leaf, overflow (the pages that
// continue a large leaf or freelist) or free.
func pageKinds(t *testing.T, path string) []string {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, PreLoadFreelist: true})
	require.NoError(t, err)
	defer db.Close()
	var kinds []string
	require.NoError(t, db.View(func(tx *bbolt.Tx) error {
		kinds = make([]string, int(tx.Size())/os.Getpagesize())
		for id := 0; id < len(kinds); id++ {
			info, err := tx.Page(id)
			if err != nil {
				return err
			}
			kinds[id] = info.Type
			if info.Type == "free" {
				continue
			}
			for j := 1; j <= info.OverflowCount; j++ {
				kinds[id+j] = "overflow"
			}
			id += info.OverflowCount
		}
		return nil
	}))
	return kinds
}

// TestDamagedRecordIsRefusedAtOpen damages a large record's overflow page,
// which has no page header for bbolt's check to see: the record check at
// Open must refuse the file.
func TestDamagedRecordIsRefusedAtOpen(t *testing.T) {
	path := smallDatabase(t)
	var page int
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, PreLoadFreelist: true})
	require.NoError(t, err)
	require.NoError(t, db.View(func(tx *bbolt.Tx) error {
		for id := 2; id < int(tx.Size())/os.Getpagesize(); id++ {
			info, err := tx.Page(id)
			if err == nil && info != nil && info.Type == "leaf" && info.OverflowCount > 0 {
				page = id + 1 // the first page after the header
				return nil
			}
		}
		return errors.New("no record spans an overflow page")
	}))
	require.NoError(t, db.Close())
	whole, err := os.ReadFile(path)
	require.NoError(t, err)
	off := page * os.Getpagesize()
	copy(whole[off:off+64], bytes.Repeat([]byte{0x01}, 64)) // control bytes: never valid JSON
	require.NoError(t, os.WriteFile(path, whole, 0o600))

	_, err = Open(path)
	require.ErrorIs(t, err, ErrCorrupt)
	assert.Contains(t, err.Error(), "is not valid JSON")
}
