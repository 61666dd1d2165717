package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/store"
)

// stepClock is a clock that moves a second at each reading, from a time
// PostgreSQL keeps exactly (whole seconds), so both stores stamp alike.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// fixture is what fillEveryKind wrote, for the views to read back.
type fixture struct {
	contacts      []uint64
	merged        uint64
	mergedCode    string
	campaigns     []uint64
	institutions  []uint64
	broadcasts    []uint64
	polls         []uint64
	parked        []uint64
	marks         [][]byte
	tokens, cooks [][]byte
	linkCode      string
	pendingToken  string
	calls         []string
	now           time.Time
}

// fillEveryKind writes every kind of record the store keeps through its
// operations: people on both channels, one merged into another and one
// forgotten, institutions with their people and supporters, campaigns with
// pledges (an anonymous one too), sign-ups and watchers, a conversation in
// progress, the audit log, updates handled, a broadcast half sent with one
// entry retried and another suspended and parked, notices, reminders, the
// ledger, link codes and marks, sign-ins, polls with answers (one
// anonymous), genuine calls, uploads and the settings.
func fillEveryKind(t *testing.T, st store.Backend, clock *stepClock) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{}
	var people []*store.Contact
	for i := range 12 {
		addr := bot.Address{Channel: bot.Telegram, ID: fmt.Sprint(5000 + i)}
		if i%3 == 0 {
			addr = bot.Address{Channel: bot.WhatsApp, ID: fmt.Sprintf("97059%07d", i)}
		}
		c, _, err := st.EnsureContact(ctx, addr, fmt.Sprintf("شخص %d", i), []string{"ar", "en"}[i%2])
		require.NoError(t, err)
		c, err = st.UpdateContact(ctx, c.ID, func(c *store.Contact) error {
			c.Consent = i != 4
			c.Governorate = []string{"nablus", "gaza", "hebron"}[i%3]
			return nil
		})
		require.NoError(t, err)
		people = append(people, c)
		f.contacts = append(f.contacts, c.ID)
	}
	// a second account merged into the first
	f.merged, f.mergedCode = people[11].ID, people[11].RefCode
	_, err := st.LinkAddresses(ctx, people[0].ID, people[11].ID)
	require.NoError(t, err)
	f.contacts = f.contacts[:11]

	inst := &store.Institution{NameAR: "جمعية الأمل", NameEN: "Hope Society", Field: "youth", Status: store.InstitutionApproved}
	require.NoError(t, st.CreateInstitution(ctx, inst))
	_, err = st.AssignInstitutionCode(ctx, inst.ID)
	require.NoError(t, err)
	pending := &store.Institution{NameAR: "مركز السلام", ContactPerson: "Rami", ApplicantID: people[3].ID}
	require.NoError(t, st.CreateInstitution(ctx, pending))
	f.institutions = []uint64{inst.ID, pending.ID}
	_, err = st.UpdateAffiliations(ctx, people[1].ID, func(c *store.Contact) error {
		c.Affiliations = append(c.Affiliations, store.Affiliation{InstitutionID: inst.ID, Role: store.InstitutionRepresentative, Since: clock.now()})
		return nil
	})
	require.NoError(t, err)
	for _, p := range people[2:5] {
		_, err := st.AddSupporter(ctx, store.Support{InstitutionID: inst.ID, ContactID: p.ID, At: clock.now(), Via: store.ViaLink}, true)
		require.NoError(t, err)
	}
	_, err = st.LeaveSupporters(ctx, inst.ID, people[4].ID)
	require.NoError(t, err)

	olive := &store.Campaign{Code: "Olive", TitleAR: "زيتون", Kind: store.KindPledge, CreatedBy: people[0].ID}
	event := &store.Campaign{Code: "march", TitleAR: "مسيرة", Kind: store.KindEvent, CreatedBy: people[0].ID,
		Organiser: store.Organiser{Institutions: []uint64{inst.ID}}}
	require.NoError(t, st.CreateCampaign(ctx, olive))
	require.NoError(t, st.CreateCampaign(ctx, event))
	f.campaigns = []uint64{olive.ID, event.ID}
	for i, p := range people[:10] {
		_, err := st.AddPledge(ctx, store.Pledge{CampaignID: olive.ID, ContactID: p.ID, Channel: p.Addresses[0].Channel,
			Governorate: p.Governorate, Lang: p.Lang, ReferredBy: people[0].ID * uint64(i%2)})
		require.NoError(t, err)
		if i%2 == 0 {
			_, err := st.AddSignup(ctx, store.Signup{CampaignID: event.ID, ContactID: p.ID, Institution: inst.ID})
			require.NoError(t, err)
		}
	}
	_, err = st.WithdrawPledge(ctx, olive.ID, people[9].ID)
	require.NoError(t, err)
	_, err = st.AddWatch(ctx, event.ID, people[5].ID)
	require.NoError(t, err)

	require.NoError(t, st.PutSession(ctx, people[2].ID, &store.Session{Flow: "pledge", Step: "governorate",
		Data: map[string]string{"campaign": "olive"}, UpdatedAt: clock.now()}))
	require.NoError(t, st.AppendAudit(ctx, store.AuditEntry{ActorID: people[0].ID, Action: "campaign.create", Details: map[string]string{"code": "olive"}}))
	require.NoError(t, st.AppendAudit(ctx, store.AuditEntry{ActorID: people[1].ID, Action: "broadcast.approve"}))
	for _, id := range []string{"101", "102", "3EB0C0FFEE1234567890"} {
		ch := bot.Telegram
		if len(id) > 3 {
			ch = bot.WhatsApp
		}
		_, err := st.MarkHandled(ctx, ch, id)
		require.NoError(t, err)
	}

	// a broadcast under way: two sent, one retried later, the rest queued
	bc := &store.Broadcast{TextAR: "نداء", TextEN: "A call", Audience: store.Audience{Kind: store.AudienceEveryone},
		CreatedBy: people[0].ID, ApprovedBy: people[1].ID}
	require.NoError(t, st.CreateBroadcast(ctx, bc))
	var entries []store.OutboxEntry
	for _, p := range people[:8] {
		e := store.OutboxEntry{To: p.Addresses[0], ContactID: p.ID, Text: bc.TextAR, Lang: "ar"}
		if p.Lang == "en" {
			e.Text, e.Lang = bc.TextEN, "en"
		}
		entries = append(entries, e)
	}
	require.NoError(t, st.QueueBroadcast(ctx, bc.ID, entries))
	queued, err := st.PendingOutbox(ctx, bot.Telegram, true, 0, 100)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(queued), 4)
	require.NoError(t, st.OutboxStarted(ctx, queued[0].ID, queued[1].ID))
	require.NoError(t, st.OutboxDone(ctx, queued[0].ID, queued[1].ID))
	require.NoError(t, st.OutboxRetry(ctx, queued[2].ID, clock.now().Add(time.Minute), "429"))
	require.NoError(t, st.Enqueue(ctx, store.OutboxEntry{To: people[3].Addresses[0], ContactID: people[3].ID, Text: "شكرًا",
		Buttons: [][]bot.Button{{{Text: "نعم", Payload: "yes"}}}}))
	held := &store.Broadcast{TextAR: "موقوف", Audience: store.Audience{Kind: store.AudienceMembers}, CreatedBy: people[0].ID, ApprovedBy: people[1].ID}
	require.NoError(t, st.CreateBroadcast(ctx, held))
	require.NoError(t, st.QueueBroadcast(ctx, held.ID, []store.OutboxEntry{{To: people[5].Addresses[0], ContactID: people[5].ID, Text: "موقوف"}}))
	heldEntries, err := st.PendingOutbox(ctx, people[5].Addresses[0].Channel, true, 0, 100)
	require.NoError(t, err)
	for _, e := range heldEntries {
		if e.BroadcastID == held.ID {
			f.parked = append(f.parked, e.ID)
		}
	}
	_, err = st.SuspendBroadcast(ctx, held.ID)
	require.NoError(t, err)
	f.broadcasts = []uint64{bc.ID, held.ID}
	require.NoError(t, st.SetStatusMessage(ctx, bc.ID, people[0].Addresses[0], "77"))

	weekly := &store.Reminder{TextAR: "كل جمعة", Audience: store.Audience{Kind: store.AudienceMembers}, Spec: "0 10 * * 5",
		NextFireAt: clock.now().Add(48 * time.Hour), Kind: store.ReminderCustom, CreatedBy: people[0].ID, ApprovedBy: people[1].ID}
	require.NoError(t, st.CreateReminder(ctx, weekly))
	once := &store.Reminder{CampaignID: event.ID, TextAR: "غدًا", Audience: store.Audience{Kind: store.AudienceSignups, CampaignID: event.ID},
		At: clock.now().Add(24 * time.Hour), CreatedBy: people[0].ID}
	require.NoError(t, st.CreateReminder(ctx, once))
	require.NoError(t, st.RecordBulkSend(ctx, store.BulkSend{Author: people[0].ID, Kind: "broadcast", ID: bc.ID, Recipients: 8, Approved: true}))

	f.linkCode, f.pendingToken = "K7Q2M9", "tok-1"
	require.NoError(t, st.PutLinkCode(ctx, f.linkCode, people[6].ID, clock.now().Add(time.Hour)))
	require.NoError(t, st.PutPendingLink(ctx, f.pendingToken, store.PendingLink{Owner: people[1].ID, Requester: people[7].ID, Expires: clock.now().Add(time.Hour)}))
	mark, err := st.AddressMark(ctx, people[8].Addresses[0])
	require.NoError(t, err)
	f.marks = [][]byte{mark}
	f.now = clock.now()
	require.NoError(t, st.AddLinkFailure(ctx, mark, f.now))
	require.NoError(t, st.AddVerifyFailure(ctx, mark, f.now))
	_, err = st.CreditReferralOnce(ctx, mark)
	require.NoError(t, err)

	f.tokens, f.cooks = [][]byte{[]byte("login-hash-0123456789abcdef01234")}, [][]byte{[]byte("cookie-hash-0123456789abcdef0123")}
	require.NoError(t, st.PutLoginToken(ctx, f.tokens[0], store.LoginToken{ContactID: people[1].ID, From: people[1].Addresses[0], Lang: "ar", Expires: f.now.Add(10 * time.Minute)}))
	require.NoError(t, st.PutWebSession(ctx, f.cooks[0], store.WebSession{ContactID: people[1].ID, From: people[1].Addresses[0], CSRF: "c5rf",
		CreatedAt: f.now, SeenAt: f.now, Expires: f.now.Add(time.Hour)}))

	q := &store.Poll{Kind: store.PollQuestion, QuestionAR: "هل تشارك؟", Options: []store.PollOption{{AR: "نعم", EN: "Yes"}, {AR: "لا", EN: "No"}},
		Audience: store.Audience{Kind: store.AudienceEveryone}, BroadcastID: bc.ID, CreatedBy: people[0].ID}
	require.NoError(t, st.CreatePoll(ctx, q))
	att := &store.Poll{Kind: store.PollAttendance, CampaignID: event.ID, QuestionAR: "هل حضرت؟",
		Options: []store.PollOption{{AR: "نعم"}, {AR: "لا"}}, Audience: store.Audience{Kind: store.AudienceSignups, CampaignID: event.ID}}
	require.NoError(t, st.CreatePoll(ctx, att))
	f.polls = []uint64{q.ID, att.ID}
	require.NoError(t, st.MarkAsked(ctx, q.ID, f.contacts[:6], clock.now()))
	for i, id := range f.contacts[:5] {
		_, err := st.AnswerPoll(ctx, store.PollAnswer{PollID: q.ID, ContactID: id, Option: i % 2, Channel: people[i].Addresses[0].Channel,
			Governorate: people[i].Governorate, Lang: people[i].Lang, Campaigns: []uint64{olive.ID}})
		require.NoError(t, err)
	}
	require.NoError(t, st.SetFollowUp(ctx, olive.ID, false))

	call := &store.Call{Code: "AB12CD34EF", Kind: "broadcast", RefID: bc.ID, TextAR: bc.TextAR, TextEN: bc.TextEN}
	require.NoError(t, st.PutCall(ctx, call))
	f.calls = []string{call.Code}
	require.NoError(t, st.SaveUpload(ctx, "telegram:42", "ab"+fmt.Sprintf("%062d", 0), bot.Upload{Ref: "AgACfileid", At: f.now}))

	require.NoError(t, st.SetPause(ctx, store.Pause{Paused: true, By: people[1].ID, At: f.now}))
	require.NoError(t, st.SetThrottledUntil(ctx, bot.Telegram, f.now.Add(3*time.Second)))
	require.NoError(t, st.SetTelegramOffset(ctx, 103))

	// forgotten: a pledge and a poll answer stay as anonymous ones
	require.NoError(t, st.ForgetContact(ctx, people[3].ID))
	f.contacts = append(f.contacts[:3], f.contacts[4:]...)
	return f
}

// view reads back, through the store's operations, everything f wrote.
func view(t *testing.T, st store.Backend, f *fixture) string {
	t.Helper()
	ctx := context.Background()
	v := map[string]any{}
	put := func(key string, val any, err error) {
		t.Helper()
		require.NoError(t, err, key)
		v[key] = val
	}
	var contacts []store.Contact
	put("contacts", &contacts, st.Contacts(ctx, func(c *store.Contact) error { contacts = append(contacts, *c); return nil }))
	for _, c := range contacts {
		for _, a := range c.Addresses {
			got, err := st.ContactByAddress(ctx, a)
			put("by address "+a.String(), got.ID, err)
		}
		got, err := st.ContactByRefCode(ctx, c.RefCode)
		put("by code "+c.RefCode, got.ID, err)
		sess, err := st.Session(ctx, c.ID)
		if errors.Is(err, store.ErrNotFound) {
			err = nil
		}
		put(fmt.Sprint("session ", c.ID), sess, err)
		for _, fn := range []func(context.Context, uint64) (any, error){
			func(ctx context.Context, id uint64) (any, error) { return st.ContactPledges(ctx, id) },
			func(ctx context.Context, id uint64) (any, error) { return st.ContactSignups(ctx, id) },
			func(ctx context.Context, id uint64) (any, error) { return st.ContactSupports(ctx, id) },
			func(ctx context.Context, id uint64) (any, error) { return st.ContactPollAnswers(ctx, id) },
		} {
			got, err := fn(ctx, c.ID)
			put(fmt.Sprintf("of %d %T", c.ID, got), got, err)
		}
	}
	id, err := st.Identity(ctx, f.merged)
	put("identity of merged", id, err)
	got, err := st.ContactByRefCode(ctx, f.mergedCode)
	put("merged code", got.ID, err)

	insts, err := st.Institutions(ctx, "")
	put("institutions", insts, err)
	for _, inst := range insts {
		people, err := st.InstitutionPeople(ctx, inst.ID)
		put(fmt.Sprint("people of ", inst.ID), people, err)
		var sps []store.Support
		put(fmt.Sprint("supporters of ", inst.ID), &sps, st.Supporters(ctx, inst.ID, func(sp *store.Support) error { sps = append(sps, *sp); return nil }))
		if inst.Code != "" {
			byCode, err := st.InstitutionByCode(ctx, inst.Code)
			put("institution by code", byCode.ID, err)
		}
	}
	camps, err := st.Campaigns(ctx)
	put("campaigns", camps, err)
	for _, c := range camps {
		byCode, err := st.CampaignByCode(ctx, c.Code)
		put("campaign by code "+c.Code, byCode.ID, err)
		counts, err := st.Counts(ctx, c.ID)
		put(fmt.Sprint("counts ", c.ID), counts, err)
		stats, err := st.CampaignStats(ctx, c.ID)
		put(fmt.Sprint("stats ", c.ID), stats, err)
		var pledges []store.Pledge
		put(fmt.Sprint("pledges ", c.ID), &pledges, st.Pledges(ctx, c.ID, func(p *store.Pledge) error { pledges = append(pledges, *p); return nil }))
		var signups []store.Signup
		put(fmt.Sprint("signups ", c.ID), &signups, st.Signups(ctx, c.ID, func(s *store.Signup) error { signups = append(signups, *s); return nil }))
		on, err := st.FollowUp(ctx, c.ID)
		put(fmt.Sprint("follow-up ", c.ID), on, err)
		days, err := st.ActivityByDay(ctx, c.ID, time.UTC)
		put(fmt.Sprint("activity ", c.ID), days, err)
		for _, id := range f.contacts {
			w, err := st.Watching(ctx, c.ID, id)
			put(fmt.Sprint("watching ", c.ID, id), w, err)
		}
	}
	var audit []store.AuditEntry
	put("audit", &audit, st.Audit(ctx, func(e *store.AuditEntry) error { audit = append(audit, *e); return nil }))
	bcs, err := st.Broadcasts(ctx)
	put("broadcasts", bcs, err)
	depth, err := st.OutboxDepth(ctx)
	put("outbox depth", depth, err)
	for _, ch := range []bot.ChannelName{bot.Telegram, bot.WhatsApp} {
		for _, bulk := range []bool{false, true} {
			entries, err := st.PendingOutbox(ctx, ch, bulk, 0, 1000)
			put(fmt.Sprint("outbox ", ch, bulk), entries, err)
		}
		sent, err := st.OutboxSentSince(ctx, ch, time.Time{})
		put(fmt.Sprint("sent ", ch), sent, err)
		until, err := st.ThrottledUntil(ctx, ch)
		put(fmt.Sprint("throttled ", ch), until, err)
	}
	for _, id := range f.parked {
		q, err := st.OutboxQueued(ctx, id)
		put(fmt.Sprint("parked ", id), q, err)
	}
	rems, err := st.Reminders(ctx)
	put("reminders", rems, err)
	due, err := st.DueReminders(ctx, f.now.Add(72*time.Hour))
	put("due", due, err)
	for _, id := range f.contacts {
		ledger, err := st.BulkSentSince(ctx, id, time.Time{})
		put(fmt.Sprint("ledger ", id), ledger, err)
	}
	for _, m := range f.marks {
		lf, err := st.LinkFailures(ctx, m, f.now)
		put("link failures", lf, err)
		vf, err := st.VerifyFailures(ctx, m, f.now)
		put("verify failures", vf, err)
	}
	for _, h := range f.cooks {
		ws, err := st.WebSession(ctx, h, f.now)
		put("web session", ws, err)
	}
	n, err := st.WebSessionCount(ctx, f.now)
	put("web sessions", n, err)
	polls, err := st.Polls(ctx)
	put("polls", polls, err)
	for _, p := range polls {
		counts, err := st.PollCounts(ctx, p.ID)
		put(fmt.Sprint("poll counts ", p.ID), counts, err)
		res, err := st.PollResults(ctx, p.ID)
		put(fmt.Sprint("poll results ", p.ID), res, err)
		var answers []store.PollAnswer
		put(fmt.Sprint("answers ", p.ID), &answers, st.PollAnswers(ctx, p.ID, func(a *store.PollAnswer) error { answers = append(answers, *a); return nil }))
		for _, id := range f.contacts {
			at, ok, err := st.Asked(ctx, p.ID, id)
			put(fmt.Sprint("asked ", p.ID, id), []any{at, ok}, err)
		}
	}
	for _, code := range f.calls {
		c, err := st.Call(ctx, code)
		put("call "+code, c, err)
		latest, err := st.CallOf(ctx, c.Kind, c.RefID)
		put("latest call "+code, latest.Code, err)
	}
	up, ok, err := st.Upload(ctx, "telegram:42", "ab"+fmt.Sprintf("%062d", 0))
	put("upload", []any{up, ok}, err)
	pause, err := st.Pause(ctx)
	put("pause", pause, err)
	off, err := st.TelegramOffset(ctx)
	put("offset", off, err)
	mark, err := st.AddressMark(ctx, bot.Address{Channel: bot.Telegram, ID: "5008"})
	put("address mark", mark, err)
	for _, aud := range []store.Audience{{Kind: store.AudienceEveryone}, {Kind: store.AudienceMembers},
		{Kind: store.AudienceGovernorate, Governorate: "gaza"}, {Kind: store.AudiencePledgers, CampaignID: f.campaigns[0]},
		{Kind: store.AudienceEveryone, Institution: f.institutions[0]}} {
		n, err := st.CountAudience(ctx, aud, nil)
		put(fmt.Sprintf("audience %+v", aud), n, err)
		rs, err := st.Recipients(ctx, aud, nil)
		put(fmt.Sprintf("recipients %+v", aud), rs, err)
	}
	buf, err := json.MarshalIndent(v, "", " ")
	require.NoError(t, err)
	return string(buf)
}

// consume uses up what can be used once, on either store, and reports
// what it found: the link code, the pending link, the sign-in link, a
// handled update, the referral credit.
func consume(t *testing.T, st store.Backend, f *fixture) string {
	t.Helper()
	ctx := context.Background()
	id, err := st.TakeLinkCode(ctx, f.linkCode, f.now)
	require.NoError(t, err)
	pl, err := st.TakePendingLink(ctx, f.pendingToken, f.now)
	require.NoError(t, err)
	tok, err := st.TakeLoginToken(ctx, f.tokens[0], f.now)
	require.NoError(t, err)
	var handled []bool
	for _, u := range []struct {
		ch bot.ChannelName
		id string
	}{{bot.Telegram, "101"}, {bot.Telegram, "102"}, {bot.WhatsApp, "3EB0C0FFEE1234567890"}, {bot.Telegram, "104"}} {
		first, err := st.MarkHandled(ctx, u.ch, u.id)
		require.NoError(t, err)
		handled = append(handled, first)
	}
	credited, err := st.CreditReferralOnce(ctx, f.marks[0])
	require.NoError(t, err)
	buf, err := json.Marshal([]any{id, pl, tok, handled, credited})
	require.NoError(t, err)
	return string(buf)
}

// TestImportCopiesEveryKind fills a bbolt file with every kind of record,
// copies it into PostgreSQL, and reads both stores back through the same
// operations: they must give the same answers, and the counts Import
// checked must match. Then the copy is run again (it replaces an
// untouched copy), refused once the database has been written to, and
// new IDs on PostgreSQL follow the file's.
func TestImportCopiesEveryKind(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	src, err := store.Open(filepath.Join(t.TempDir(), "mobilise.db"), store.WithNow((&stepClock{t: start}).now))
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	f := fillEveryKind(t, src, &stepClock{t: start.Add(time.Hour)})

	pg, _ := openTest(t, WithNow((&stepClock{t: start.Add(2 * time.Hour)}).now))
	counts, err := pg.Import(ctx, src, "mobilise.db")
	require.NoError(t, err)
	nonzero := 0
	for _, c := range counts {
		require.Equal(t, c.Source, c.Target, c.Kind)
		if c.Source > 0 {
			nonzero++
		}
		t.Logf("%-22s %d", c.Kind, c.Source)
	}
	require.Equal(t, len(store.CopyKinds()), nonzero, "every kind is in the file")

	want := view(t, src, f)
	require.Equal(t, want, view(t, pg, f))

	counts2, err := pg.Import(ctx, src, "mobilise.db")
	require.NoError(t, err, "an untouched copy is copied into again")
	require.Equal(t, counts, counts2)
	require.Equal(t, want, view(t, pg, f))

	require.Equal(t, consume(t, src, f), consume(t, pg, f))
	_, err = pg.Import(ctx, src, "mobilise.db")
	require.ErrorIs(t, err, ErrNotEmpty, "written to since the copy")

	next := &store.Campaign{Code: "after", TitleAR: "بعد", Kind: store.KindPledge}
	require.NoError(t, pg.CreateCampaign(ctx, next))
	require.Greater(t, next.ID, f.campaigns[len(f.campaigns)-1])
	c, _, err := pg.EnsureContact(ctx, bot.Address{Channel: bot.Telegram, ID: "999"}, "new", "ar")
	require.NoError(t, err)
	require.Greater(t, c.ID, f.merged, "a merged contact's ID is not given again")
}

// oneContactFile is a bbolt file holding one person (telegram:1), closed
// when the test ends.
func oneContactFile(t *testing.T) (*store.Store, *store.Contact) {
	t.Helper()
	src, err := store.Open(filepath.Join(t.TempDir(), "mobilise.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	c, _, err := src.EnsureContact(context.Background(), bot.Address{Channel: bot.Telegram, ID: "1"}, "a", "ar")
	require.NoError(t, err)
	return src, c
}

// TestImportRefusesADatabaseWithData leaves a database the bot has written
// to untouched.
func TestImportRefusesADatabaseWithData(t *testing.T) {
	ctx := context.Background()
	src, _ := oneContactFile(t)

	pg, _ := openTest(t)
	own, _, err := pg.EnsureContact(ctx, bot.Address{Channel: bot.Telegram, ID: "2"}, "b", "ar")
	require.NoError(t, err)
	_, err = pg.Import(ctx, src, "mobilise.db")
	require.ErrorIs(t, err, ErrNotEmpty)
	got, err := pg.ContactByAddress(ctx, bot.Address{Channel: bot.Telegram, ID: "2"})
	require.NoError(t, err)
	require.Equal(t, own.ID, got.ID)
	_, err = pg.ContactByAddress(ctx, bot.Address{Channel: bot.Telegram, ID: "1"})
	require.ErrorIs(t, err, store.ErrNotFound)
}

// TestImportRefusesACopyInstancesRanOn leaves a copy alone once an
// instance has started on it, even when what it changed (a person's
// language, in place) leaves every count as the copy made it, and while
// an instance still runs on it (its leases held). A database where an
// instance ran before the first copy, and wrote nothing, is copied into.
func TestImportRefusesACopyInstancesRanOn(t *testing.T) {
	ctx := context.Background()
	src, c := oneContactFile(t)

	pg, _ := openTest(t)
	require.NoError(t, pg.RecordStart(ctx, "before, pid 1"))
	_, err := pg.Import(ctx, src, "mobilise.db")
	require.NoError(t, err, "an instance that wrote nothing before the first copy")
	_, err = pg.Import(ctx, src, "mobilise.db")
	require.NoError(t, err, "the start before the copy is not counted against the copy")

	require.NoError(t, pg.RecordStart(ctx, "host-a, pid 42"))
	_, err = pg.UpdateContact(ctx, c.ID, func(c *store.Contact) error { c.Lang = "en"; return nil })
	require.NoError(t, err)
	_, err = pg.Import(ctx, src, "mobilise.db")
	require.ErrorIs(t, err, ErrNotEmpty)
	require.ErrorContains(t, err, "written to since: an instance started on it")
	require.ErrorContains(t, err, "host-a, pid 42")
	t.Logf("refused: %v", err)
	got, err := pg.ContactByAddress(ctx, bot.Address{Channel: bot.Telegram, ID: "1"})
	require.NoError(t, err)
	require.Equal(t, "en", got.Lang, "what the instance changed is kept")

	other, _ := openTest(t)
	_, err = other.Import(ctx, src, "mobilise.db")
	require.NoError(t, err)
	l, err := other.Hold(ctx, "outbox")
	require.NoError(t, err)
	_, err = other.Import(ctx, src, "mobilise.db")
	require.ErrorIs(t, err, ErrNotEmpty)
	require.ErrorContains(t, err, "instances are running on it (leases held: 1)")
	require.NoError(t, l.Release())
	_, err = other.Import(ctx, src, "mobilise.db")
	require.NoError(t, err, "once the instance is stopped, an untouched copy is copied into again")
}

// TestImportRefusesACopyChangedWithTheSameCounts leaves a copy alone that
// an instance has written to without changing how many records of any
// kind it holds: a person who gave consent, a later Telegram offset. Run
// again, the copy would put the file's older state over them.
func TestImportRefusesACopyChangedWithTheSameCounts(t *testing.T) {
	ctx := context.Background()
	src, c := oneContactFile(t)
	require.NoError(t, src.SetTelegramOffset(ctx, 10))

	pg, _ := openTest(t)
	_, err := pg.Import(ctx, src, "mobilise.db")
	require.NoError(t, err)
	// a poster migrate put in after the copy, from another media directory
	poster := []byte("a poster")
	sha := fmt.Sprintf("%x", sha256.Sum256(poster))
	require.NoError(t, pg.PutMedia(ctx, sha, "poster.jpg", "image/jpeg", poster))
	_, err = pg.Import(ctx, src, "mobilise.db")
	require.NoError(t, err, "an untouched copy is copied into again")
	_, _, _, err = pg.Media(ctx, sha)
	require.NoError(t, err, "the media files already there stay")

	_, err = pg.UpdateContact(ctx, c.ID, func(c *store.Contact) error { c.Consent = true; return nil })
	require.NoError(t, err)
	require.NoError(t, pg.SetTelegramOffset(ctx, 11))
	_, err = pg.Import(ctx, src, "mobilise.db")
	require.ErrorIs(t, err, ErrNotEmpty, "written to since the copy, with the same counts")
	got, err := pg.ContactByAddress(ctx, bot.Address{Channel: bot.Telegram, ID: "1"})
	require.NoError(t, err)
	require.True(t, got.Consent, "the consent given on PostgreSQL stays")
	off, err := pg.TelegramOffset(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 11, off)
}

// TestImportCopiesLargeNumericUpdateIDs copies the marks of updates whose
// IDs are numbers of 2^56 and above, which the bbolt file keeps as eight
// bytes that do not start with a zero byte: each is copied as the number
// it was, so the same update is still known as handled.
func TestImportCopiesLargeNumericUpdateIDs(t *testing.T) {
	ctx := context.Background()
	src, err := store.Open(filepath.Join(t.TempDir(), "mobilise.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	ids := []string{"72057594037927936", "18446744073709551615", "12345", "ABCDEFGH", "00000001", "صباح"}
	for _, id := range ids {
		_, err := src.MarkHandled(ctx, bot.WhatsApp, id)
		require.NoError(t, err)
	}
	pg, _ := openTest(t)
	_, err = pg.Import(ctx, src, "mobilise.db")
	require.NoError(t, err)
	for _, id := range ids {
		first, err := pg.MarkHandled(ctx, bot.WhatsApp, id)
		require.NoError(t, err)
		require.False(t, first, "update %s was handled before the copy", id)
	}
}
