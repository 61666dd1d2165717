package store

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"mobilise/bot"

	"go.etcd.io/bbolt"
)

// fuzzBucket is one bucket's content, to put back between fuzz runs.
type fuzzBucket struct {
	name []byte
	seq  uint64
	keys [][]byte
	vals [][]byte
}

// snapshotBuckets copies every bucket of the database.
func snapshotBuckets(db *bbolt.DB) ([]fuzzBucket, error) {
	var out []fuzzBucket
	err := db.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			fb := fuzzBucket{name: bytes.Clone(name), seq: b.Sequence()}
			err := b.ForEach(func(k, v []byte) error {
				fb.keys = append(fb.keys, bytes.Clone(k))
				fb.vals = append(fb.vals, bytes.Clone(v))
				return nil
			})
			out = append(out, fb)
			return err
		})
	})
	return out, err
}

// restoreBuckets puts every bucket back as snapshotBuckets found it.
func restoreBuckets(tx *bbolt.Tx, snap []fuzzBucket) error {
	for _, fb := range snap {
		if err := tx.DeleteBucket(fb.name); err != nil {
			return err
		}
		b, err := tx.CreateBucket(fb.name)
		if err != nil {
			return err
		}
		if err := b.SetSequence(fb.seq); err != nil {
			return err
		}
		for i := range fb.keys {
			if err := b.Put(fb.keys[i], fb.vals[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// fuzzBaseline fills s with one of each record: two people (one with a
// session on a menu), an institution, a campaign with a pledge and a
// sign-up, two broadcasts with their queued messages, a notice, a reminder,
// an audit entry, a pause, a handled update and a link code.
func fuzzBaseline(f *testing.F, s *Store) {
	at := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	must := func(err error) {
		if err != nil {
			f.Fatal(err)
		}
	}
	a, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:1"), "Salma", "ar")
	must(err)
	b, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("whatsapp:970599000000"), "Omar", "en")
	must(err)
	_, err = s.UpdateContact(context.Background(), a.ID, func(c *Contact) error {
		c.Consent, c.Governorate, c.Unreachable = true, "nablus", map[bot.Address]time.Time{bot.MustParseAddress("telegram:1"): at}
		return nil
	})
	must(err)
	must(s.PutSession(context.Background(), a.ID, &Session{Flow: "register", Step: "name", Data: map[string]string{"k": "v"},
		Menu: &Menu{ID: "ab12cd34", Options: []string{"yes", "no"}, Labels: []string{"نعم", "لا"}}}))
	must(s.CreateInstitution(context.Background(), &Institution{NameAR: "مركز", Field: "youth", Governorates: []string{"jenin"}, ApplicantID: a.ID}))
	c := &Campaign{Code: "peace", TitleAR: "سلام", Kind: KindBoth, Target: 2, StartAt: at, EventAt: at.Add(48 * time.Hour),
		ReminderOffsets: []time.Duration{time.Hour}}
	must(s.CreateCampaign(context.Background(), c))
	_, err = s.AddPledge(context.Background(), Pledge{CampaignID: c.ID, ContactID: a.ID, Channel: "telegram", ReferredBy: b.ID})
	must(err)
	_, err = s.AddSignup(context.Background(), Signup{CampaignID: c.ID, ContactID: b.ID, Channel: "whatsapp"})
	must(err)
	bc := &Broadcast{CampaignID: c.ID, TextAR: "نداء", Audience: Audience{Kind: AudienceEveryone}}
	must(s.CreateBroadcast(context.Background(), bc))
	must(s.QueueBroadcast(context.Background(), bc.ID, []OutboxEntry{{To: bot.MustParseAddress("telegram:1"), ContactID: a.ID, Text: "نداء"}}))
	must(s.Enqueue(context.Background(), OutboxEntry{To: bot.MustParseAddress("whatsapp:970599000000"), ContactID: b.ID, Text: "hi",
		Buttons: [][]bot.Button{{{Text: "a", Payload: "m:1:0"}}}}))
	must(s.CreateReminder(context.Background(), &Reminder{CampaignID: c.ID, TextAR: "تذكير", Audience: Audience{Kind: AudiencePledgers, CampaignID: c.ID},
		Spec: "0 10 * * 5", NextFireAt: at.Add(time.Hour)}))
	must(s.AppendAudit(context.Background(), AuditEntry{ActorID: a.ID, Action: "approve", Details: map[string]string{"id": "1"}}))
	must(s.SetPause(context.Background(), Pause{Paused: false, By: a.ID, At: at}))
	must(s.SetTelegramOffset(context.Background(), 42))
	_, err = s.MarkHandled(context.Background(), "telegram", "41")
	must(err)
	must(s.PutLinkCode(context.Background(), "123456", a.ID, at.Add(time.Hour)))
	bc2 := &Broadcast{TextAR: "ثانٍ", Audience: Audience{Kind: AudienceEveryone}}
	must(s.CreateBroadcast(context.Background(), bc2))
	must(s.QueueBroadcast(context.Background(), bc2.ID, []OutboxEntry{{To: bot.MustParseAddress("whatsapp:970599000000"), ContactID: b.ID, Text: "ثانٍ"}}))
}

// FuzzRecordDecoding puts arbitrary bytes where the store keeps a record or
// an index entry (or adds a key of its own), then calls every read method
// and the read-modify-write ones: each may return an error, none may panic.
func FuzzRecordDecoding(f *testing.F) {
	s, err := Open(f.TempDir()+"/mobilise.db", WithBatchDelay(0))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	// durability is beside the point here, and fsync would bound the fuzzer to ~100 runs a second
	s.db.NoSync = true
	fuzzBaseline(f, s)
	snap, err := snapshotBuckets(s.db)
	if err != nil {
		f.Fatal(err)
	}
	var slots [][2][]byte // (bucket, key) of every stored value
	for _, fb := range snap {
		for _, k := range fb.keys {
			slots = append(slots, [2][]byte{fb.name, k})
		}
	}
	for i := range slots {
		for _, v := range []string{"null", "[]", "\xff"} {
			f.Add(uint16(i), false, []byte(nil), []byte(v))
		}
	}
	f.Add(uint16(0), false, []byte(nil), []byte(`{"id":1,"addresses":null,"unreachable":{"":"x"}}`))
	f.Add(uint16(0), false, []byte(nil), []byte(`{"menu":{"id":"","options":null,"labels":["a","b","c"]}}`))
	f.Add(uint16(0), false, []byte(nil), []byte(`{"audience":{"kind":"pledgers"},"spec":"61 * * * *"}`))
	f.Add(uint16(0), true, []byte("short"), []byte(`{"campaign_id":1}`))
	f.Add(uint16(3), true, []byte("telegram\x00\x00"), []byte(`{"to":"telegram:"}`))

	far := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, which uint16, add bool, key, value []byte) {
		slot := slots[int(which)%len(slots)]
		if add && (len(key) == 0 || len(key) > bbolt.MaxKeySize) {
			return
		}
		if len(value) > 1<<16 {
			return
		}
		err := s.db.Update(func(tx *bbolt.Tx) error {
			if err := restoreBuckets(tx, snap); err != nil {
				return err
			}
			k := slot[1]
			if add {
				k = key
			}
			return tx.Bucket(slot[0]).Put(k, value)
		})
		if err != nil {
			t.Fatal(err)
		}
		noop := func(any) error { return nil }
		_, _ = s.Contact(context.Background(), 1)
		_, _ = s.Contact(context.Background(), 2)
		_, _ = s.ContactByAddress(context.Background(), bot.MustParseAddress("telegram:1"))
		_, _ = s.ContactByAddress(context.Background(), bot.MustParseAddress("whatsapp:970599000000"))
		if c, err := s.Contact(context.Background(), 1); err == nil {
			_, _ = s.ContactByRefCode(context.Background(), c.RefCode)
		}
		_ = s.Contacts(context.Background(), func(c *Contact) error { return noop(c) })
		_, _ = s.Institution(context.Background(), 1)
		_, _ = s.Institutions(context.Background(), "")
		_, _ = s.Institutions(context.Background(), InstitutionPending)
		_, _ = s.Campaign(context.Background(), 1)
		_, _ = s.CampaignByCode(context.Background(), "peace")
		_, _ = s.Campaigns(context.Background())
		_, _ = s.Pledge(context.Background(), 1, 1)
		_ = s.Pledges(context.Background(), 1, func(p *Pledge) error { return noop(p) })
		_, _ = s.ContactPledges(context.Background(), 1)
		_, _ = s.Signup(context.Background(), 1, 2)
		_ = s.Signups(context.Background(), 1, func(su *Signup) error { return noop(su) })
		_, _ = s.ContactSignups(context.Background(), 2)
		_, _ = s.Counts(context.Background(), 1)
		_, _ = s.CampaignStats(context.Background(), 1)
		_, _ = s.Session(context.Background(), 1)
		_ = s.Audit(context.Background(), func(e *AuditEntry) error { return noop(e) })
		_, _ = s.Broadcast(context.Background(), 1)
		_, _ = s.Broadcasts(context.Background())
		for _, bulk := range []bool{false, true} {
			_, _ = s.PendingOutbox(context.Background(), "telegram", bulk, 0, 10)
			_, _ = s.PendingOutbox(context.Background(), "whatsapp", bulk, 0, 10)
		}
		_, _ = s.OutboxDepth(context.Background())
		_, _ = s.OutboxSentSince(context.Background(), "telegram", far.Add(-72*time.Hour))
		_, _ = s.Reminders(context.Background())
		_, _ = s.Reminder(context.Background(), 1)
		_, _ = s.DueReminders(context.Background(), far)
		for _, aud := range []Audience{{Kind: AudienceEveryone}, {Kind: AudiencePledgers, CampaignID: 1}, {Kind: AudienceNotPledged, CampaignID: 1}} {
			_, _ = s.Recipients(context.Background(), aud, func(bot.ChannelName) bool { return true })
		}
		_, _ = s.TelegramOffset(context.Background())
		_, _ = s.Pause(context.Background())
		_ = s.Check()
		// read-modify-write: decoding comes first
		_, _ = s.UpdateContact(context.Background(), 1, func(*Contact) error { return nil })
		_, _ = s.UpdateCampaign(context.Background(), 1, func(*Campaign) error { return nil })
		_, _ = s.UpdateInstitution(context.Background(), 1, func(*Institution) error { return nil })
		_, _ = s.UpdateBroadcast(context.Background(), 1, func(*Broadcast) error { return nil })
		_, _ = s.AddPledge(context.Background(), Pledge{CampaignID: 1, ContactID: 2})
		_, _ = s.AddSignup(context.Background(), Signup{CampaignID: 1, ContactID: 1})
		_ = s.OutboxRetry(context.Background(), 2, far, "retry")
		_ = s.OutboxDone(context.Background(), 1)
		_, _ = s.MarkHandled(context.Background(), "telegram", "7")
		_, _ = s.TakeLinkCode(context.Background(), "123456", far.Add(-5*365*24*time.Hour))
		_, _ = s.CancelBroadcast(context.Background(), 2)
		if slices.Equal(slot[0], bucketContacts) {
			_ = s.ForgetContact(context.Background(), 1)
		}
	})
}
