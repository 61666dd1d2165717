package chat_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/bottest"
	"mobilise/bot/engine"
	"mobilise/bot/schedule"
	"mobilise/messages"
	"mobilise/store"
)

func TestRestartInTheMiddleOfAWizard(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	w.onboard("rep")
	w.say("rep", "/register")
	w.say("rep", "مركز الحوار")
	assert.Contains(t, w.say("rep", "Dialogue Centre"), w.en(messages.RegisterField))

	// the process stops and starts again: a new store handle and a new bot
	w.restart()

	assert.Contains(t, w.say("rep", "1"), "Which governorates")
	w.say("rep", "7")
	w.say("rep", "done")
	w.say("rep", "Samar Khalil")
	assert.Contains(t, w.say("rep", "info@dialogue.ps"), "Dialogue Centre")
	insts, err := w.st.Institutions(context.Background(), "")
	require.NoError(t, err)
	assert.Empty(t, insts, "nothing is stored before the summary is confirmed")
	assert.Contains(t, w.say("rep", "1"), w.en(messages.RegisterSubmitted))
	insts, err = w.st.Institutions(context.Background(), store.InstitutionPending)
	require.NoError(t, err)
	require.Len(t, insts, 1)
	assert.Equal(t, "مركز الحوار", insts[0].NameAR)
	assert.Equal(t, []string{"ramallah"}, insts[0].Governorates)
	assert.Equal(t, "info@dialogue.ps", insts[0].Email)
}

func TestConcurrentPledgesFromAThousandPeople(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	c := w.campaign("peace", store.KindPledge, 1000)
	const people = 1000
	var wg sync.WaitGroup
	for i := range people {
		for range 2 { // each presses twice at once: still one pledge
			wg.Go(func() {
				err := w.stack.Bot.HandleIncoming(context.Background(), bot.Incoming{From: bot.Address{Channel: "test", ID: fmt.Sprint("p", i)}, Text: "/pledge peace"})
				assert.NoError(t, err)
			})
		}
	}
	wg.Wait()
	n, err := w.st.Counts(context.Background(), c.ID)
	require.NoError(t, err)
	assert.Equal(t, people, n.Pledges)
	seen := map[uint64]bool{}
	require.NoError(t, w.st.Pledges(context.Background(), c.ID, func(p *store.Pledge) error {
		assert.False(t, seen[p.ContactID], "duplicate pledge for contact %d", p.ContactID)
		seen[p.ContactID] = true
		return nil
	}))
	assert.Len(t, seen, people)
	got, err := w.st.Campaign(context.Background(), c.ID)
	require.NoError(t, err)
	assert.False(t, got.TargetReachedAt.IsZero())
	// bbolt's check reads the free list, which a writer running beside it changes
	w.stop()
	require.NoError(t, w.st.Check())
}

func TestForgetErasesThePersonButKeepsTotals(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	ctx := context.Background()
	c := w.campaign("walk", store.KindBoth, 0)
	w.onboard("admin")
	w.onboard("huda")
	w.say("huda", "/pledge walk")
	w.say("huda", "/signup walk")
	w.onboard("omar")
	w.say("omar", "/pledge walk")

	assert.Contains(t, w.say("huda", "/forget"), "erase all your data")
	assert.Contains(t, w.say("huda", "maybe"), w.en(messages.ErrYesNo))
	assert.Contains(t, w.say("huda", "no"), w.en(messages.ForgetKept))
	_, err := w.st.ContactByAddress(ctx, bot.MustParseAddress("test:huda"))
	require.NoError(t, err, "no keeps the data")

	require.NoError(t, w.st.Enqueue(ctx, store.OutboxEntry{To: bot.MustParseAddress("test:huda"), Text: "a reminder queued before she left", Bulk: true}))
	huda, err := w.st.ContactByAddress(ctx, bot.MustParseAddress("test:huda"))
	require.NoError(t, err)
	pendingApp := &store.Institution{NameAR: "مؤسسة هدى", Field: "youth", Governorates: []string{"gaza"}, ContactPerson: "Huda", Phone: "+970599111222", Status: store.InstitutionPending, ApplicantID: huda.ID}
	decidedApp := &store.Institution{NameAR: "مؤسسة قديمة", Field: "youth", Governorates: []string{"gaza"}, ContactPerson: "Huda", Phone: "+970599111333", Status: store.InstitutionApproved, ApplicantID: huda.ID}
	require.NoError(t, w.st.CreateInstitution(ctx, pendingApp))
	require.NoError(t, w.st.CreateInstitution(ctx, decidedApp))
	assert.Contains(t, w.say("huda", "/mydata"), "مؤسسة هدى", "/mydata shows the pending application")
	w.say("huda", "/forget")
	assert.Contains(t, w.say("huda", "yes"), w.en(messages.ForgetDone))
	assert.Empty(t, w.pending(true), "nothing queued reaches a person who asked to be forgotten")
	_, err = w.st.Institution(ctx, pendingApp.ID)
	assert.ErrorIs(t, err, store.ErrNotFound, "a pending application goes with the person")
	kept, err := w.st.Institution(ctx, decidedApp.ID)
	require.NoError(t, err)
	assert.Zero(t, kept.ApplicantID, "a member institution stays, no longer tied to them")
	assert.Empty(t, kept.ContactPerson+kept.Phone+kept.Email, "and keeps nothing of the person")
	told := w.rec.take("admin")
	require.NotEmpty(t, told)
	assert.Contains(t, told[len(told)-1].Text, "مؤسسة قديمة", "the admins hear it needs a new contact")
	_, err = w.st.ContactByAddress(ctx, bot.MustParseAddress("test:huda"))
	assert.ErrorIs(t, err, store.ErrNotFound)
	n, err := w.st.Counts(ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, store.Counts{Pledges: 2, Signups: 0}, n, "pledges stay counted, anonymously; the sign-up is gone")
	w.flush()
	require.NoError(t, w.st.Check())

	// writing again starts afresh, as a new person
	assert.Contains(t, w.say("huda", "/start"), "Choose your language")
}

func TestBackupRestoresTheConversationState(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	ctx := context.Background()
	c := w.campaign("walk", store.KindPledge, 10)
	w.onboard("huda")
	w.say("huda", "/pledge walk")
	w.say("huda", "/register")
	w.say("huda", "مؤسسة النور")

	backup := filepath.Join(t.TempDir(), "backup.db")
	require.NoError(t, w.st.BackupTo(backup))
	w.say("omar", "/pledge walk") // after the backup: not in it

	w.stop()
	require.NoError(t, w.st.Close())
	w.path = backup
	w.open()
	require.NoError(t, w.st.Check())
	n, err := w.st.Counts(ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, n.Pledges)
	w.build()
	assert.Contains(t, w.say("huda", "skip"), w.en(messages.RegisterField), "the wizard continues from the backup")
}

// TestRoles runs every privileged command as every role: only the roles at
// or above the command's are let through, and a refused one changes nothing.
func TestRoles(t *testing.T) {
	// every privileged command, with an argument that makes it do something
	args := map[string]string{
		"closecampaign": "walk", "approve": "1", "reject": "1", "appoint": "test:target", "dismiss": "test:target",
		"approvebroadcast": "1", "rejectbroadcast": "1", "stats": "walk", "remind": "list", "broadcast": "list",
		"approvereminder": "1", "rejectreminder": "1", "takeover": "broadcast 1", "drop": "broadcast 1",
		"editcampaign": "walk", "reopencampaign": "walk", "poll": "list", "poster": "walk", "followup": "walk off",
		"suspend": "nosuch reason", "reinstate": "nosuch reason", "endmembership": "nosuch reason",
		"approvename": "1", "rejectname": "1", "invitepartner": "walk nosuch", "acceptpartner": "walk", "declinepartner": "walk",
		"attach": "walk",
	}
	w0 := newWorld(t, bottest.Config{})
	privileged := map[string]store.Role{}
	for _, c := range w0.stack.Bot.Commands() {
		if c.Role != store.RoleCitizen {
			privileged[strings.TrimSpace("/"+c.Name+" "+args[c.Name])] = c.Role
		}
	}
	require.Len(t, privileged, 42, "a new privileged command needs a case here")
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
				w := newWorld(t, bottest.Config{})
				ctx := context.Background()
				w.campaign("walk", store.KindPledge, 0)
				w.onboard("target")
				require.NoError(t, w.st.CreateInstitution(ctx, &store.Institution{NameAR: "مؤسسة", Field: "youth", Governorates: []string{"gaza"}, ContactPerson: "x", Status: store.InstitutionPending}))
				c := w.onboard(p.id)
				if p.id != "admin" {
					_, err := w.st.UpdateContact(ctx, c.ID, func(c *store.Contact) error { c.Role = p.role; return nil })
					require.NoError(t, err)
				}
				got := w.say(p.id, cmd)
				refused := strings.Contains(got, w.en(messages.ErrNotAllowed))
				assert.Equal(t, !p.role.AtLeast(min), refused, "%s as %s: %q", cmd, p.role, got)
				assert.NotEmpty(t, got, "every command answers")
				if refused {
					assert.Empty(t, w.audit(), "a refused command changes nothing")
					pause, err := w.st.Pause(ctx)
					require.NoError(t, err)
					assert.False(t, pause.Paused)
				}
			})
		}
	}
}

func TestRoleIsCheckedAtEveryStepOfAPrivilegedWizard(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	ctx := context.Background()
	w.onboard("coord")
	w.role("coord", store.RoleCoordinator)
	w.onboard("p1")
	w.script("coord", "/broadcast", "1")
	// the coordinator is dismissed halfway: the next step refuses, and shows nothing more
	w.role("coord", store.RoleCitizen)
	out := w.say("coord", "نص البث")
	assert.Contains(t, out, w.en(messages.ErrNotAllowed))
	assert.NotContains(t, out, w.en(messages.BroadcastTextEN), "no further question")
	out = w.say("coord", "skip")
	assert.NotContains(t, out, "Recipients", "no count of recipients, no preview")
	bs, err := w.st.Broadcasts(ctx)
	require.NoError(t, err)
	assert.Empty(t, bs)

	// and at the commit too
	w.role("coord", store.RoleCoordinator)
	for _, line := range []string{"/newcampaign", "حملة", "skip", "دعوة", "skip", "walk2027", "1", "skip", "now", "skip"} {
		w.say("coord", line)
	}
	w.role("coord", store.RoleCitizen)
	assert.Contains(t, w.say("coord", "1"), w.en(messages.ErrNotAllowed))
	_, err = w.st.CampaignByCode(ctx, "walk2027")
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestFloodControl(t *testing.T) {
	w := newWorld(t, bottest.Config{Engine: []engine.Option{engine.WithFloodLimit(3, time.Second)}})
	for range 3 {
		assert.NotContains(t, w.say("fast", "/help"), w.en(messages.ErrSlowDown))
	}
	assert.Contains(t, w.say("fast", "/help"), w.cat.Text("ar", messages.ErrSlowDown, nil))
	assert.Empty(t, w.say("fast", "/help"), "ignored after the warning")
	assert.NotEmpty(t, w.say("calm", "/help"), "others are unaffected")
	w.setNow(w.clock().Add(2 * time.Second))
	assert.NotContains(t, w.say("fast", "/help"), w.cat.Text("ar", messages.ErrSlowDown, nil))
}

func TestButtonsAndExpiredMenus(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	w.say("amal", "/start")
	out := w.press("amal", "/language")
	require.Len(t, out, 1)
	require.Len(t, out[0].Buttons, 2, "two options, one per row")
	english := out[0].Buttons[1][0]
	for _, row := range out[0].Buttons {
		assert.LessOrEqual(t, len(row[0].Payload), 64)
	}
	got := w.press("amal", english.Payload)
	require.NotEmpty(t, got)
	assert.Contains(t, got[0].Text, w.en(messages.LanguageSet))

	// the same button again: its menu is gone
	got = w.press("amal", english.Payload)
	require.NotEmpty(t, got)
	assert.Contains(t, got[0].Text, w.en(messages.ErrMenuExpired))
	got = w.press("amal", "m:nonsense")
	assert.Contains(t, got[0].Text, w.en(messages.ErrMenuExpired))
}

func TestReferrals(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	ctx := context.Background()
	w.campaign("walk", store.KindPledge, 0)
	amal := w.onboard("amal")
	share := w.say("amal", "/share walk")
	assert.Contains(t, share, "/start walk-"+amal.RefCode)

	w.say("amal", "/start walk-"+amal.RefCode) // one's own link does not count
	w.say("bilal", "/start walk-"+amal.RefCode)
	w.say("bilal", "2")
	w.say("bilal", "yes")
	assert.Contains(t, w.say("bilal", "skip"), "Campaign walk", "the link opens the campaign after onboarding")
	w.say("bilal", "/pledge walk")
	w.say("bilal", "/start walk-"+amal.RefCode) // counted once
	w.say("sami", "/start -"+amal.RefCode)

	got, err := w.st.Contact(ctx, amal.ID)
	require.NoError(t, err)
	assert.Equal(t, 2, got.Referrals)
	assert.Contains(t, w.say("amal", "/share"), "2 people have joined through your link")
	c, err := w.st.CampaignByCode(ctx, "walk")
	require.NoError(t, err)
	st, err := w.st.CampaignStats(ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Referred)

	// forgetting and coming back through the same link does not count again
	w.say("sami", "/forget")
	w.say("sami", "yes")
	w.say("sami", "/start -"+amal.RefCode)
	got, err = w.st.Contact(ctx, amal.ID)
	require.NoError(t, err)
	assert.Equal(t, 2, got.Referrals, "a forget cycle does not inflate the count")

	assert.Contains(t, w.say("nadia", "/start bad!!link"), w.cat.Text("ar", messages.StartBadLink, nil))
}

func TestBadInputIsRefusedPolitely(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	w.onboard("sami")
	w.say("sami", "/register")
	assert.Contains(t, w.say("sami", strings.Repeat("م", 151)), "The limit is 150")
	assert.Contains(t, w.say("sami", "مركز\x07 الأمل"), w.en(messages.ErrInputInvalid))
	assert.Contains(t, w.say("sami", strings.Repeat("a", 3000)), "The limit is 2,000")
	assert.Contains(t, w.say("sami", "\xff\xfe"), w.en(messages.RegisterNameAR), "invalid UTF-8 is refused and the question repeated")
	assert.Contains(t, w.say("sami", "مركز الأمل"), w.en(messages.RegisterNameEN), "the wizard goes on after the errors")
}

func TestGroupCommandsPointToThePrivateChat(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	in := bot.Incoming{From: bot.MustParseAddress("test:amal"), Chat: bot.MustParseAddress("test:-100"), Group: true, Text: "/pledge walk"}
	w.send(in)
	out := w.rec.take("-100")
	require.Len(t, out, 1)
	assert.Contains(t, out[0].Text, w.cat.Text("ar", messages.GroupUsePrivate, map[string]any{"Link": messages.Isolate("/start walk")}))
	_, err := w.st.ContactByAddress(context.Background(), bot.MustParseAddress("test:amal"))
	assert.ErrorIs(t, err, store.ErrNotFound, "a group command stores nothing about who wrote it")
	in.Text = "just chatting"
	w.send(in)
	assert.Empty(t, w.rec.take("-100"), "group chatter is ignored")
}

func TestBlockedPersonIsMarkedUnreachableUntilTheyWriteAgain(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	c := w.onboard("amal")
	amal := bot.MustParseAddress("test:amal")
	w.send(bot.Incoming{Kind: bot.KindBlocked, From: amal})
	got, err := w.st.Contact(context.Background(), c.ID)
	require.NoError(t, err)
	assert.Contains(t, got.Unreachable, amal)
	w.say("amal", "/help")
	got, err = w.st.Contact(context.Background(), c.ID)
	require.NoError(t, err)
	assert.NotContains(t, got.Unreachable, amal)
}

func TestAMessageDeliveredTwiceIsHandledOnce(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	c := w.campaign("walk", store.KindPledge, 0)
	w.onboard("amal")
	in := bot.Incoming{From: bot.MustParseAddress("test:amal"), Text: "/pledge walk", ExternalID: "777"}
	w.send(in)
	first := w.rec.take("amal")
	require.NotEmpty(t, first)
	w.send(in)
	assert.Empty(t, w.rec.take("amal"), "the same update again is not answered again")
	n, err := w.st.Counts(context.Background(), c.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, n.Pledges)
}

func TestHelpInTheMiddleOfAWizardKeepsIt(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	w.onboard("rep")
	w.say("rep", "/register")
	w.say("rep", "مركز الحوار")
	out := w.say("rep", "/help")
	assert.Contains(t, out, w.en(messages.HelpIntro))
	assert.Contains(t, out, w.en(messages.RegisterNameEN), "then the question again")
	assert.Contains(t, w.say("rep", "skip"), w.en(messages.RegisterField), "and the wizard goes on")
}

func TestStopHoldsAgainstGreetingsLinksAndQueuedBroadcasts(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	ctx := context.Background()
	w.campaign("walk", store.KindPledge, 0)
	amal := w.onboard("amal")
	w.releaseBulk = false
	require.NoError(t, w.st.Enqueue(ctx,
		store.OutboxEntry{To: bot.MustParseAddress("test:amal"), ContactID: amal.ID, Text: "a broadcast queued earlier", Bulk: true},
	))
	assert.Contains(t, w.say("amal", "ايقاف"), w.cat.Text("en", messages.StopDone, nil))
	assert.Empty(t, w.pending(true), "queued broadcasts are withdrawn")

	for _, hello := range []string{"السلام عليكم", "مرحبا", "hello", "/start walk", "start walk"} {
		w.say("amal", hello)
		c, err := w.st.Contact(ctx, amal.ID)
		require.NoError(t, err)
		assert.True(t, c.Stopped, "%q does not resume messages", hello)
	}
	assert.Contains(t, w.say("amal", "/start"), w.en(messages.StartResumed), "a plain /start does")
}

func TestANewcomersFirstMessageStartsTheWelcome(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	w.campaign("walk", store.KindPledge, 0)
	for _, first := range []string{"Hello", "test", "مرحبا بدي انضم للحملة"} {
		id := "new" + fmt.Sprint(len(first))
		assert.Contains(t, w.say(id, first), "Choose your language", "%q", first)
	}
	assert.Contains(t, w.say("coder", "walk"), "Choose your language")
	w.say("coder", "2")
	w.say("coder", "yes")
	assert.Contains(t, w.say("coder", "skip"), "Campaign walk", "a campaign code typed first opens it after the welcome")
}

func TestForwardedMessagesAreNotCommands(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	amal := w.onboard("amal")
	w.send(bot.Incoming{From: bot.MustParseAddress("test:amal"), Text: "إيقاف", Forwarded: &bot.Forward{}})
	assert.Contains(t, strings.Join(texts(w.rec.take("amal")), "\n"), w.cat.Text("en", messages.ForwardedNote, nil))
	c, err := w.st.Contact(context.Background(), amal.ID)
	require.NoError(t, err)
	assert.False(t, c.Stopped, "a forwarded «إيقاف» is someone else's words")
}

func texts(msgs []bot.Outgoing) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Text)
	}
	return out
}

// TestBroadcastAndReminderTextNeedArabic: the Arabic text of a broadcast
// or a reminder with no Arabic letter (an emoji alone) is refused at its
// step and asked again, before anything is previewed or stored.
func TestBroadcastAndReminderTextNeedArabic(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	w.onboard("amal")
	w.role("amal", store.RoleCoordinator)
	for _, cmd := range []string{"/broadcast", "/remind"} {
		w.say("amal", cmd)
		asked := w.say("amal", "1") // no campaign
		require.Contains(t, asked, w.en(messages.BroadcastTextAR), cmd)
		got := w.say("amal", "😀")
		assert.Contains(t, got, w.en(messages.ErrNeedArabic), cmd)
		assert.Contains(t, got, w.en(messages.BroadcastTextAR), "%s asks again", cmd)
		got = w.say("amal", "تعالوا يوم الجمعة")
		assert.Contains(t, got, w.en(messages.BroadcastTextEN), "%s goes on", cmd)
		w.say("amal", "/cancel")
	}
}

// TestPrivacyInWords: «بياناتي» and «احذف بياناتي», "my data" and "delete
// my data", typed with no menu showing (after /help), lead to /mydata and
// to /forget, which asks before erasing anything.
func TestPrivacyInWords(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	w.say("salma", "/start")
	w.say("salma", "١")
	w.say("salma", "نعم")
	w.say("salma", "تجاوز")
	ar := func(k messages.Key) string { return w.cat.Text("ar", k, nil) }
	w.say("salma", "؟")
	assert.Contains(t, w.say("salma", "بياناتي"), "🔒", "«بياناتي» shows the person's data")
	w.say("salma", "/help")
	got := w.say("salma", "احذف بياناتي")
	assert.Contains(t, got, ar(messages.ForgetConfirm), "«احذف بياناتي» asks before erasing")
	assert.Contains(t, w.say("salma", "لا"), ar(messages.ForgetKept))
	c, err := w.st.ContactByAddress(context.Background(), bot.Address{Channel: "test", ID: "salma"})
	require.NoError(t, err, "nothing was erased")
	assert.Equal(t, "ar", c.Lang)

	w.onboard("sam")
	w.say("sam", "/help")
	assert.Contains(t, w.say("sam", "my data"), "🔒")
	w.say("sam", "/help")
	assert.Contains(t, w.say("sam", "Delete my data"), w.en(messages.ForgetConfirm))
}

// TestContinueInsideAWizardGoesOn: /continue typed in the middle of a
// wizard asks its question again; it neither asks whether to leave for
// /continue nor drops the wizard.
func TestContinueInsideAWizardGoesOn(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	w.onboard("amal")
	w.role("amal", store.RoleCoordinator)
	for _, cmd := range []string{"/broadcast", "/poll"} {
		w.say("amal", cmd)
		w.say("amal", "1") // no campaign
		got := w.say("amal", "/continue")
		assert.NotContains(t, got, "You are in the middle of", cmd)
		assert.NotContains(t, got, w.en(messages.DraftNone), cmd)
		assert.Contains(t, got, "Arabic", "%s asks its question again", cmd)
		assert.NotEmpty(t, w.session("amal").Flow, "%s goes on", cmd)
		w.say("amal", "/cancel")
	}
}

// TestNewcomerCancelsTheWelcome: a newcomer who leaves the welcome is not
// shown a main menu, which would only bring the welcome back; before the
// language is chosen the answer is in both languages.
func TestNewcomerCancelsTheWelcome(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	w.say("nadia", "/start")
	got := w.say("nadia", "/cancel")
	assert.Contains(t, got, w.cat.Text("ar", messages.CancelWelcome, nil))
	assert.Contains(t, got, w.en(messages.CancelWelcome))
	assert.NotContains(t, got, w.cat.Text("ar", messages.MenuTitle, nil), "no main menu")
	assert.Empty(t, w.session("nadia").Flow)

	w.say("omar", "/start")
	w.say("omar", "2")
	got = w.say("omar", "/cancel")
	assert.Equal(t, w.en(messages.CancelWelcome), got, "in the language chosen, and nothing else")

	w.onboard("huda")
	assert.Contains(t, w.say("huda", "/cancel"), w.en(messages.MenuTitle), "someone who went through the welcome gets the menu as before")
}

// TestBroadcastSentInQuietHours: the preview says a broadcast will wait
// out quiet hours unless marked urgent; once it is sent, the answer says
// it waits, without offering what can no longer be chosen.
func TestBroadcastSentInQuietHours(t *testing.T) {
	quiet, err := schedule.ParseQuietHours("09:00-12:00") // testNow is 11:30 in Hebron
	require.NoError(t, err)
	w := newWorld(t, bottest.Config{Quiet: &quiet})
	w.onboard("amal")
	w.role("amal", store.RoleCoordinator)
	w.say("amal", "/broadcast")
	w.say("amal", "1") // no campaign
	w.say("amal", "تعالوا غدًا")
	w.say("amal", "skip")
	preview := w.say("amal", "1") // everyone
	assert.Contains(t, preview, "unless you mark it urgent", "the preview offers urgency")
	sent := w.say("amal", "1") // send
	assert.Contains(t, sent, "It is quiet hours now, so it waits until")
	assert.NotContains(t, sent, "unless you mark it urgent", "the sent broadcast no longer offers it")
}
