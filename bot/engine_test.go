package bot_test

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/messages"
	"mobilise/store"
)

// recorder is a channel that keeps what the bot sends.
type recorder struct {
	name string
	mu   sync.Mutex
	sent []bot.Outgoing
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) Send(_ context.Context, msg bot.Outgoing) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, msg)
	return fmt.Sprint(len(r.sent)), nil
}

// to returns the texts sent to id, and forgets them.
func (r *recorder) take(id string) []bot.Outgoing {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out, rest []bot.Outgoing
	for _, m := range r.sent {
		if m.To.ID == id {
			out = append(out, m)
		} else {
			rest = append(rest, m)
		}
	}
	r.sent = rest
	return out
}

func (r *recorder) lastText(id string) string {
	msgs := r.take(id)
	if len(msgs) == 0 {
		return ""
	}
	return msgs[len(msgs)-1].Text
}

// engine is a Service over a real store with a recording channel named "test".
type engine struct {
	*harness
	rec *recorder
	svc *bot.Service
}

func newEngine(t *testing.T, opts ...bot.Option) *engine {
	h := newHarness(t)
	e := &engine{harness: h, rec: &recorder{name: "test"}}
	e.build(opts...)
	return e
}

func (e *engine) build(opts ...bot.Option) {
	base := []bot.Option{
		bot.WithSender(e.rec),
		bot.WithClock(func() time.Time { return e.now }),
		bot.WithLocation(e.loc),
		bot.WithAdmins("test:admin"),
		bot.WithFloodLimit(0, time.Second),
	}
	e.svc = bot.New(e.st, e.cat, append(base, opts...)...)
}

// say sends text from id and returns everything the bot answered id, joined.
func (e *engine) say(id, text string) string {
	e.svc.HandleIncoming(context.Background(), bot.Incoming{From: bot.Address{Channel: "test", ID: id}, Name: id, Text: text})
	var texts []string
	for _, m := range e.rec.take(id) {
		texts = append(texts, m.Text)
	}
	return strings.Join(texts, "\n---\n")
}

func (e *engine) press(id, payload string) []bot.Outgoing {
	e.svc.HandleIncoming(context.Background(), bot.Incoming{From: bot.Address{Channel: "test", ID: id}, Name: id, Payload: payload})
	return e.rec.take(id)
}

// onboard takes id through /start in English with consent.
func (e *engine) onboard(id string) *store.Contact {
	e.say(id, "/start")
	e.say(id, "2")
	e.say(id, "yes")
	e.say(id, "skip")
	c, err := e.st.ContactByAddress("test:" + id)
	require.NoError(e.t, err)
	return c
}

func (e *engine) campaign(code string, kind store.CampaignKind, target int) *store.Campaign {
	c := &store.Campaign{Code: code, TitleAR: "حملة " + code, TitleEN: "Campaign " + code, CallAR: "انضموا", CallEN: "Join", Kind: kind, Target: target,
		StartAt: e.now.Add(-time.Hour), EventAt: e.now.Add(72 * time.Hour), EventPlace: "Nablus"}
	require.NoError(e.t, e.st.CreateCampaign(c))
	return c
}

func (e *engine) en(key messages.Key) string { return e.cat.Text("en", key, nil) }

func TestRestartInTheMiddleOfAWizard(t *testing.T) {
	e := newEngine(t)
	e.onboard("rep")
	e.say("rep", "/register")
	e.say("rep", "مركز الحوار")
	assert.Contains(t, e.say("rep", "Dialogue Centre"), e.en(messages.RegisterField))

	// the process stops and starts again: a new store handle and a new Service
	e.restart()
	e.build()

	assert.Contains(t, e.say("rep", "1"), "Which governorates")
	e.say("rep", "7")
	e.say("rep", "done")
	e.say("rep", "Samar Khalil")
	assert.Contains(t, e.say("rep", "info@dialogue.ps"), "Dialogue Centre")
	insts, err := e.st.Institutions("")
	require.NoError(t, err)
	assert.Empty(t, insts, "nothing is stored before the summary is confirmed")
	assert.Contains(t, e.say("rep", "1"), e.en(messages.RegisterSubmitted))
	insts, err = e.st.Institutions(store.InstitutionPending)
	require.NoError(t, err)
	require.Len(t, insts, 1)
	assert.Equal(t, "مركز الحوار", insts[0].NameAR)
	assert.Equal(t, []string{"ramallah"}, insts[0].Governorates)
	assert.Equal(t, "info@dialogue.ps", insts[0].Email)
}

func TestConcurrentPledgesFromAThousandPeople(t *testing.T) {
	e := newEngine(t)
	c := e.campaign("peace", store.KindPledge, 1000)
	const people = 1000
	var wg sync.WaitGroup
	for i := range people {
		for range 2 { // each presses twice at once: still one pledge
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.svc.HandleIncoming(context.Background(), bot.Incoming{From: bot.Address{Channel: "test", ID: fmt.Sprint("p", i)}, Text: "/pledge peace"})
			}()
		}
	}
	wg.Wait()
	n, err := e.st.Counts(c.ID)
	require.NoError(t, err)
	assert.Equal(t, people, n.Pledges)
	seen := map[uint64]bool{}
	require.NoError(t, e.st.Pledges(c.ID, func(p *store.Pledge) error {
		assert.False(t, seen[p.ContactID], "duplicate pledge for contact %d", p.ContactID)
		seen[p.ContactID] = true
		return nil
	}))
	assert.Len(t, seen, people)
	got, err := e.st.Campaign(c.ID)
	require.NoError(t, err)
	assert.False(t, got.TargetReachedAt.IsZero())
	require.NoError(t, e.st.Check())
}

func TestForgetErasesThePersonButKeepsTotals(t *testing.T) {
	e := newEngine(t)
	c := e.campaign("walk", store.KindBoth, 0)
	e.onboard("huda")
	e.say("huda", "/pledge walk")
	e.say("huda", "/signup walk")
	e.onboard("omar")
	e.say("omar", "/pledge walk")

	assert.Contains(t, e.say("huda", "/forget"), "erase all your data")
	assert.Contains(t, e.say("huda", "maybe"), e.en(messages.ErrYesNo))
	assert.Contains(t, e.say("huda", "no"), e.en(messages.ForgetKept))
	_, err := e.st.ContactByAddress("test:huda")
	require.NoError(t, err, "no keeps the data")

	require.NoError(t, e.st.Enqueue(store.OutboxEntry{To: "test:huda", Text: "a reminder queued before she left", Bulk: true}))
	huda, err := e.st.ContactByAddress("test:huda")
	require.NoError(t, err)
	pendingApp := &store.Institution{NameAR: "مؤسسة هدى", Field: "youth", Governorates: []string{"gaza"}, ContactPerson: "Huda", Phone: "+970599111222", Status: store.InstitutionPending, ApplicantID: huda.ID}
	decidedApp := &store.Institution{NameAR: "مؤسسة قديمة", Field: "youth", Governorates: []string{"gaza"}, ContactPerson: "Huda", Status: store.InstitutionApproved, ApplicantID: huda.ID}
	require.NoError(t, e.st.CreateInstitution(pendingApp))
	require.NoError(t, e.st.CreateInstitution(decidedApp))
	e.say("huda", "/forget")
	assert.Contains(t, e.say("huda", "yes"), e.en(messages.ForgetDone))
	queued, err := e.st.PendingOutbox("test", true, 0, 100)
	require.NoError(t, err)
	assert.Empty(t, queued, "nothing queued reaches a person who asked to be forgotten")
	_, err = e.st.Institution(pendingApp.ID)
	assert.ErrorIs(t, err, store.ErrNotFound, "a pending application goes with the person")
	kept, err := e.st.Institution(decidedApp.ID)
	require.NoError(t, err)
	assert.Zero(t, kept.ApplicantID, "a member institution stays, no longer tied to them")
	_, err = e.st.ContactByAddress("test:huda")
	assert.ErrorIs(t, err, store.ErrNotFound)
	n, err := e.st.Counts(c.ID)
	require.NoError(t, err)
	assert.Equal(t, store.Counts{Pledges: 2, Signups: 0}, n, "pledges stay counted, anonymously; the sign-up is gone")
	require.NoError(t, e.st.Check())

	// writing again starts afresh, as a new person
	assert.Contains(t, e.say("huda", "/start"), "Choose your language")
}

func TestBackupRestoresTheConversationState(t *testing.T) {
	e := newEngine(t)
	c := e.campaign("walk", store.KindPledge, 10)
	e.onboard("huda")
	e.say("huda", "/pledge walk")
	e.say("huda", "/register")
	e.say("huda", "مؤسسة النور")

	backup := filepath.Join(t.TempDir(), "backup.db")
	require.NoError(t, e.st.BackupTo(backup))
	e.say("omar", "/pledge walk") // after the backup: not in it

	restored, err := store.Open(backup)
	require.NoError(t, err)
	defer restored.Close()
	require.NoError(t, restored.Check())
	n, err := restored.Counts(c.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, n.Pledges)
	e.st = restored
	e.build()
	assert.Contains(t, e.say("huda", "skip"), e.en(messages.RegisterField), "the wizard continues from the backup")
}

// TestRoles runs every privileged command as every role: only the roles at
// or above the command's are let through.
func TestRoles(t *testing.T) {
	// every privileged command, with an argument that makes it do something
	args := map[string]string{
		"closecampaign": "walk", "approve": "1", "reject": "1", "appoint": "test:target", "dismiss": "test:target",
		"approvebroadcast": "1", "rejectbroadcast": "1", "stats": "walk", "remind": "list", "broadcast": "list",
	}
	privileged := map[string]store.Role{}
	for name, role := range bot.PrivilegedCommands() {
		privileged[strings.TrimSpace("/"+name+" "+args[name])] = role
	}
	require.Len(t, privileged, 15, "a new privileged command needs a case here")
	people := []struct {
		id   string
		role store.Role
	}{
		{"citizen", store.RoleCitizen},
		{"member", store.RoleMember},
		{"coordinator", store.RoleCoordinator},
		{"storedadmin", store.RoleAdmin},
		{"admin", store.RoleAdmin}, // named in the configuration
	}
	for cmd, min := range privileged {
		for _, p := range people {
			t.Run(strings.TrimPrefix(cmd, "/")+"/"+p.id, func(t *testing.T) {
				e := newEngine(t)
				e.campaign("walk", store.KindPledge, 0)
				e.onboard("target")
				require.NoError(t, e.st.CreateInstitution(&store.Institution{NameAR: "مؤسسة", Field: "youth", Governorates: []string{"gaza"}, ContactPerson: "x", Status: store.InstitutionPending}))
				c := e.onboard(p.id)
				if p.id != "admin" {
					_, err := e.st.UpdateContact(c.ID, func(c *store.Contact) error { c.Role = p.role; return nil })
					require.NoError(t, err)
				}
				got := e.say(p.id, cmd)
				refused := strings.Contains(got, e.en(messages.ErrNotAllowed))
				assert.Equal(t, !p.role.AtLeast(min), refused, "%s as %s: %q", cmd, p.role, got)
				assert.NotEmpty(t, got, "every command answers")
				if refused {
					var actions []string
					require.NoError(t, e.st.Audit(func(a *store.AuditEntry) error { actions = append(actions, a.Action); return nil }))
					assert.Empty(t, actions, "a refused command changes nothing")
					p, err := e.st.Pause()
					require.NoError(t, err)
					assert.False(t, p.Paused)
				}
			})
		}
	}
}

func TestAuthorityIsCheckedAgainWhenAWizardFinishes(t *testing.T) {
	e := newEngine(t)
	c := e.onboard("coord")
	_, err := e.st.UpdateContact(c.ID, func(c *store.Contact) error { c.Role = store.RoleCoordinator; return nil })
	require.NoError(t, err)
	for _, line := range []string{"/newcampaign", "حملة", "skip", "دعوة", "skip", "walk2027", "1", "skip", "now", "skip"} {
		e.say("coord", line)
	}
	// the coordinator is dismissed while the summary is on screen
	_, err = e.st.UpdateContact(c.ID, func(c *store.Contact) error { c.Role = store.RoleCitizen; return nil })
	require.NoError(t, err)
	assert.Contains(t, e.say("coord", "1"), e.en(messages.ErrNotAllowed))
	_, err = e.st.CampaignByCode("walk2027")
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestFloodControl(t *testing.T) {
	e := newEngine(t, bot.WithFloodLimit(3, time.Second))
	for range 3 {
		assert.NotContains(t, e.say("fast", "/help"), e.en(messages.ErrSlowDown))
	}
	assert.Contains(t, e.say("fast", "/help"), e.cat.Text("ar", messages.ErrSlowDown, nil))
	assert.Empty(t, e.say("fast", "/help"), "ignored after the warning")
	assert.NotEmpty(t, e.say("calm", "/help"), "others are unaffected")
	e.now = e.now.Add(2 * time.Second)
	assert.NotContains(t, e.say("fast", "/help"), e.cat.Text("ar", messages.ErrSlowDown, nil))
}

func TestButtonsAndExpiredMenus(t *testing.T) {
	e := newEngine(t)
	e.say("amal", "/start")
	e.svc.HandleIncoming(context.Background(), bot.Incoming{From: bot.Address{Channel: "test", ID: "amal"}, Text: "/language"})
	out := e.rec.take("amal")
	require.Len(t, out, 1)
	require.Len(t, out[0].Buttons, 2, "two options, one per row")
	english := out[0].Buttons[1][0]
	for _, row := range out[0].Buttons {
		assert.LessOrEqual(t, len(row[0].Payload), 64)
	}
	got := e.press("amal", english.Payload)
	require.NotEmpty(t, got)
	assert.Contains(t, got[0].Text, e.en(messages.LanguageSet))

	// the same button again: its menu is gone
	got = e.press("amal", english.Payload)
	require.NotEmpty(t, got)
	assert.Contains(t, got[0].Text, e.en(messages.ErrMenuExpired))
	got = e.press("amal", "m:nonsense")
	assert.Contains(t, got[0].Text, e.en(messages.ErrMenuExpired))
}

func TestReferrals(t *testing.T) {
	e := newEngine(t)
	e.campaign("walk", store.KindPledge, 0)
	amal := e.onboard("amal")
	share := e.say("amal", "/share walk")
	assert.Contains(t, share, "/start walk-"+amal.RefCode)

	e.say("amal", "/start walk-"+amal.RefCode) // one's own link does not count
	e.say("bilal", "/start walk-"+amal.RefCode)
	e.say("bilal", "2")
	e.say("bilal", "yes")
	assert.Contains(t, e.say("bilal", "skip"), "Campaign walk", "the link opens the campaign after onboarding")
	e.say("bilal", "/pledge walk")
	e.say("bilal", "/start walk-"+amal.RefCode) // counted once
	e.say("sami", "/start -"+amal.RefCode)

	got, err := e.st.Contact(amal.ID)
	require.NoError(t, err)
	assert.Equal(t, 2, got.Referrals)
	assert.Contains(t, e.say("amal", "/share"), "2 people have joined through your link")
	c, err := e.st.CampaignByCode("walk")
	require.NoError(t, err)
	st, err := e.st.CampaignStats(c.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Referred)

	assert.Contains(t, e.say("nadia", "/start bad!!link"), e.cat.Text("ar", messages.StartBadLink, nil))
}

func TestBadInputIsRefusedPolitely(t *testing.T) {
	e := newEngine(t)
	e.onboard("sami")
	e.say("sami", "/register")
	assert.Contains(t, e.say("sami", strings.Repeat("م", 151)), "The limit is 150")
	assert.Contains(t, e.say("sami", "مركز\x07 الأمل"), e.en(messages.ErrInputInvalid))
	assert.Contains(t, e.say("sami", strings.Repeat("a", 3000)), "The limit is 2,000")
	assert.Contains(t, e.say("sami", "\xff\xfe"), e.en(messages.RegisterNameAR), "invalid UTF-8 is refused and the question repeated")
	assert.Contains(t, e.say("sami", "مركز الأمل"), e.en(messages.RegisterNameEN), "the wizard goes on after the errors")
}

func TestGroupCommandsPointToThePrivateChat(t *testing.T) {
	e := newEngine(t)
	in := bot.Incoming{From: bot.Address{Channel: "test", ID: "amal"}, Chat: bot.Address{Channel: "test", ID: "-100"}, Group: true, Text: "/pledge walk"}
	e.svc.HandleIncoming(context.Background(), in)
	out := e.rec.take("-100")
	require.Len(t, out, 1)
	assert.Contains(t, out[0].Text, e.cat.Text("ar", messages.GroupUsePrivate, map[string]any{"Link": messages.Isolate("/start walk")}))
	_, err := e.st.ContactByAddress("test:amal")
	assert.ErrorIs(t, err, store.ErrNotFound, "a group command stores nothing about who wrote it")
	in.Text = "just chatting"
	e.svc.HandleIncoming(context.Background(), in)
	assert.Empty(t, e.rec.take("-100"), "group chatter is ignored")
}

func TestBlockedPersonIsMarkedUnreachableUntilTheyWriteAgain(t *testing.T) {
	e := newEngine(t)
	c := e.onboard("amal")
	e.svc.HandleIncoming(context.Background(), bot.Incoming{Kind: bot.KindBlocked, From: bot.Address{Channel: "test", ID: "amal"}})
	got, err := e.st.Contact(c.ID)
	require.NoError(t, err)
	assert.Contains(t, got.Unreachable, "test:amal")
	e.say("amal", "/help")
	got, err = e.st.Contact(c.ID)
	require.NoError(t, err)
	assert.NotContains(t, got.Unreachable, "test:amal")
}

func TestLinkingTwoAccountsMakesOnePerson(t *testing.T) {
	e := newEngine(t)
	wa := &recorder{name: "wa"}
	e.svc.AddSender(wa)
	c := e.campaign("walk", store.KindPledge, 0)
	amal := e.onboard("amal")
	e.say("amal", "/pledge walk")
	from := func(text string) string {
		e.svc.HandleIncoming(context.Background(), bot.Incoming{From: bot.Address{Channel: "wa", ID: "970599123456"}, Text: text})
		var texts []string
		for _, m := range wa.take("970599123456") {
			texts = append(texts, m.Text)
		}
		return strings.Join(texts, "\n")
	}
	from("/pledge walk")
	n, err := e.st.Counts(c.ID)
	require.NoError(t, err)
	require.Equal(t, 2, n.Pledges, "two accounts, not yet linked, count twice")

	assert.Contains(t, from("/link 00000000"), e.cat.Text("ar", messages.LinkBadCode, nil))
	out := e.say("amal", "/link")
	code := regexp.MustCompile(`/link \x{2068}?([a-z2-9]{8})`).FindStringSubmatch(out)
	require.Len(t, code, 2, out)
	assert.Contains(t, e.say("amal", "/link "+code[1]), e.en(messages.LinkSame))
	out = e.say("amal", "/link")
	code = regexp.MustCompile(`/link \x{2068}?([a-z2-9]{8})`).FindStringSubmatch(out)
	require.Len(t, code, 2, out)
	e.now = e.now.Add(11 * time.Minute)
	assert.Contains(t, from("/link "+code[1]), e.cat.Text("ar", messages.LinkBadCode, nil), "codes expire")
	e.now = e.now.Add(-11 * time.Minute)

	out = e.say("amal", "/link")
	code = regexp.MustCompile(`/link \x{2068}?([a-z2-9]{8})`).FindStringSubmatch(out)
	require.Len(t, code, 2, out)
	assert.Contains(t, from("/link "+code[1]), "wa:970599123456")

	merged, err := e.st.ContactByAddress("wa:970599123456")
	require.NoError(t, err)
	assert.Equal(t, amal.ID, merged.ID)
	assert.ElementsMatch(t, []string{"test:amal", "wa:970599123456"}, merged.Addresses)
	n, err = e.st.Counts(c.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, n.Pledges, "linked, the person counts once")
	require.NoError(t, e.st.Check())
	assert.Contains(t, from("/mydata"), "test:amal", "either account shows the one record")
}

func TestLinkCodesCannotBeGuessed(t *testing.T) {
	e := newEngine(t)
	e.onboard("amal")
	out := e.say("amal", "/link")
	code := regexp.MustCompile(`/link \x{2068}?([a-z2-9]{8})`).FindStringSubmatch(out)
	require.Len(t, code, 2, out)
	e.onboard("mallory")
	for range 5 {
		assert.Contains(t, e.say("mallory", "/link aaaaaaaa"), e.en(messages.LinkBadCode))
	}
	assert.Contains(t, e.say("mallory", "/link "+code[1]), e.en(messages.LinkTooMany), "after five wrong codes even the right one is refused for an hour")
	m, err := e.st.ContactByAddress("test:mallory")
	require.NoError(t, err)
	assert.Len(t, m.Addresses, 1, "nothing was linked")
}
