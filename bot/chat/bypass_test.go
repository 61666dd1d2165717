package chat_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/bottest"
	"mobilise/messages"
	"mobilise/store"
)

// The ways round the rules that people found in earlier versions, each
// tried again through the conversations, as they did.

// people onboards each id in English, with consent, and sets their governorate.
func (w *world) people(gov string, ids ...string) {
	w.t.Helper()
	for _, id := range ids {
		c := w.onboard(id)
		_, err := w.st.UpdateContact(context.Background(), c.ID, func(c *store.Contact) error { c.Governorate = gov; return nil })
		require.NoError(w.t, err)
	}
}

// sayOn sends text from id on the "wa" channel and returns the answers.
func (w *world) sayOn(id, text string) string {
	w.t.Helper()
	w.send(bot.Incoming{From: bot.Address{Channel: "wa", ID: id}, Name: id, Text: text})
	w.flush()
	var texts []string
	for _, m := range w.wa.take(id) {
		texts = append(texts, m.Text)
	}
	return strings.Join(texts, "\n---\n")
}

// messages returns what was sent to id on "test" since the last look,
// buttons and all.
func (w *world) messagesTo(id string) []bot.Outgoing {
	w.flush()
	return w.rec.take(id)
}

// payloadOf finds the button labelled label among msgs.
func payloadOf(t *testing.T, msgs []bot.Outgoing, label string) string {
	t.Helper()
	for _, m := range msgs {
		for _, row := range m.Buttons {
			for _, b := range row {
				if b.Text == label {
					return b.Payload
				}
			}
		}
	}
	t.Fatalf("no button %q in %+v", label, msgs)
	return ""
}

// broadcastTo runs the broadcast wizard as id: no campaign, the texts, the
// audience of a governorate, send; it returns the last answer.
func (w *world) broadcastTo(id, textAR, textEN, gov string) string {
	w.t.Helper()
	if textEN == "" {
		textEN = "skip"
	}
	return w.script(id, "/broadcast", "1", textAR, textEN, "3", gov, "1")
}

func broadcasts(t *testing.T, w *world) []store.Broadcast {
	t.Helper()
	bs, err := w.st.Broadcasts(context.Background())
	require.NoError(t, err)
	return bs
}

// An admin wrote a large broadcast, linked a fresh second account and
// approved it from there.
func TestBypassSelfApprovalThroughALinkedAccount(t *testing.T) {
	w := newWorld(t, bottest.Config{Threshold: 2})
	w.onboard("ruth")
	w.role("ruth", store.RoleAdmin)
	w.people("jenin", "p1", "p2", "p3")
	w.onboard("admin")
	w.broadcastTo("admin", "نص البث", "the text", "jenin")
	require.Equal(t, store.BroadcastAwaitingApproval, broadcasts(t, w)[0].Status)
	assert.Empty(t, w.messagesTo("admin"), "the author is not asked to approve their own")

	// a fresh WhatsApp account types the admin's link code; the admin confirms
	code := linkCode.FindStringSubmatch(w.say("admin", "/link"))
	require.Len(t, code, 2)
	w.sayOn("fresh", "/start")
	w.sayOn("fresh", "/link "+code[1])
	confirm := w.messagesTo("admin")
	w.press("admin", payloadOf(t, confirm, w.en(messages.LinkConfirmYes)))
	merged, err := w.st.ContactByAddress(context.Background(), bot.Address{Channel: "wa", ID: "fresh"})
	require.NoError(t, err)
	require.Len(t, merged.Addresses, 2, "linked")

	got := w.sayOn("fresh", "/approvebroadcast 1")
	assert.Contains(t, got, w.en(messages.BroadcastOwnApproval), "refused from the second account")
	got = w.say("admin", "/approvebroadcast 1")
	assert.Contains(t, got, w.en(messages.BroadcastOwnApproval), "and from the first")
	assert.Equal(t, store.BroadcastAwaitingApproval, broadcasts(t, w)[0].Status)
	assert.Empty(t, w.pending(true), "nothing went out")

	// another admin approves; the progress reports find their author
	w.say("ruth", "/approvebroadcast 1")
	bc := broadcasts(t, w)[0]
	assert.Equal(t, merged.ID, bc.CreatedBy)
	ruth, err := w.st.ContactByAddress(context.Background(), bot.Address{Channel: "test", ID: "ruth"})
	require.NoError(t, err)
	assert.Equal(t, ruth.ID, bc.ApprovedBy, "the audit log reads two people because they are two")
	require.NoError(t, w.co().Broadcasts.ReportProgress(context.Background(), bc.ID))
}

// An admin's /remind to everyone needed no second person.
func TestBypassAnAdminsReminderNeedsApproval(t *testing.T) {
	w := newWorld(t, bottest.Config{Threshold: 2})
	w.onboard("ruth")
	w.role("ruth", store.RoleAdmin)
	w.people("nablus", "p1", "p2", "p3")
	w.onboard("admin")
	w.script("admin", "/remind", "1", "تذكير للجميع", "skip", "1", "2")
	got := w.script("admin", "every day at 6 pm", "1")
	assert.Contains(t, got, w.cat.Text("en", messages.RemindAwaiting, map[string]any{
		"ID": messages.FormatID("en", 1), "Total": w.cat.Count("en", messages.PeopleCount, 5, nil), "Threshold": w.cat.Count("en", messages.PeopleCount, 2, nil),
	}))
	r, err := w.st.Reminder(context.Background(), 1)
	require.NoError(t, err)
	assert.True(t, r.AwaitingApproval, "5 people is over 2: a second admin must approve")
	ruth := w.messagesTo("ruth")
	assert.NotEmpty(t, payloadOf(t, ruth, w.en(messages.BroadcastApproveButton)), "the other admin is asked")
}

// A broadcast to Jenin (2) and one to Tubas (2) both went out at once,
// though everyone (4) needed approval.
func TestBypassSplitAudiences(t *testing.T) {
	w := newWorld(t, bottest.Config{Threshold: 2})
	w.people("jenin", "j1", "j2")
	w.people("tubas", "t1", "t2")
	w.onboard("coord")
	w.role("coord", store.RoleCoordinator)
	w.broadcastTo("coord", "جنين", "", "jenin")
	w.broadcastTo("coord", "طوباس", "", "tubas")
	bs := broadcasts(t, w)
	require.Len(t, bs, 2)
	assert.Equal(t, store.BroadcastQueued, bs[0].Status, "the first half goes")
	assert.Equal(t, store.BroadcastAwaitingApproval, bs[1].Status, "the second half waits: 4 within a day is over 2")
}

// A dismissed coordinator who then sent /forget still had their daily
// reminder to everyone go out two minutes later.
func TestBypassDismissalAndForgetStopSending(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	w.people("nablus", "p1", "p2")
	w.onboard("coord")
	w.role("coord", store.RoleCoordinator)
	w.script("coord", "/remind", "1", "تذكير يومي", "skip", "1", "2")
	w.script("coord", "every day at 10:00 am", "1")
	r, err := w.st.Reminder(context.Background(), 1)
	require.NoError(t, err)
	require.False(t, r.AwaitingApproval)

	w.onboard("admin")
	got := w.say("admin", "/dismiss test:coord")
	assert.Contains(t, got, w.cat.Text("en", messages.SuspendedReminderLine, map[string]any{"ID": messages.FormatID("en", 1)}), "the admin hears the reminder stopped: %s", got)
	w.script("coord", "/forget", "1")
	w.setNow(r.NextFireAt.Add(2 * time.Minute))
	require.NoError(t, w.co().Reminders.FireDue(context.Background()))
	assert.Empty(t, w.pending(true), "nothing goes out")
}

// A citizen's account linked to an admin's became admin with no
// confirmation, notice or audit entry; two accounts on one channel could
// be linked.
func TestBypassLinkPassesNoRoleSilently(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	w.onboard("ruth")
	w.role("ruth", store.RoleAdmin)
	w.onboard("citizen")
	w.onboard("admin")
	code := linkCode.FindStringSubmatch(w.say("citizen", "/link"))
	require.Len(t, code, 2)
	got := w.say("admin", "/link "+code[1])
	assert.NotContains(t, got, w.en(messages.LinkDone), "not linked before the admin says yes: %s", got)
	assert.NotContains(t, w.audit(), "accounts_linked")
	w.say("admin", "/cancel")

	// same channel, whoever confirms
	code = linkCode.FindStringSubmatch(w.say("citizen", "/link"))
	require.Len(t, code, 2)
	w.onboard("other")
	assert.Contains(t, w.say("other", "/link "+code[1]), w.en(messages.LinkSameChannel))
	assert.NotContains(t, w.audit(), "accounts_linked")

	// on another channel, the admin's yes links them, in the audit log and told to the other admin
	code = linkCode.FindStringSubmatch(w.say("admin", "/link"))
	require.Len(t, code, 2)
	w.sayOn("fresh", "/start")
	w.sayOn("fresh", "/link "+code[1])
	w.press("admin", payloadOf(t, w.messagesTo("admin"), w.en(messages.LinkConfirmYes)))
	assert.Contains(t, w.audit(), "accounts_linked")
	assert.NotEmpty(t, w.messagesTo("ruth"), "the other admin is told")
}

// The approver saw only the harmless Arabic text, not the English sent to
// every English speaker; nor whether it was urgent or its campaign.
func TestBypassTheApproverSeesEverything(t *testing.T) {
	w := newWorld(t, bottest.Config{Threshold: 1})
	w.onboard("ruth")
	w.role("ruth", store.RoleAdmin)
	w.people("jenin", "p1", "p2")
	w.onboard("coord")
	w.role("coord", store.RoleCoordinator)
	w.broadcastTo("coord", "تعالوا إلى الوقفة", "the coalition has been dissolved", "jenin")
	asked := w.messagesTo("ruth")
	require.NotEmpty(t, asked)
	text := asked[len(asked)-1].Text
	assert.Contains(t, text, "تعالوا إلى الوقفة")
	assert.Contains(t, text, "the coalition has been dissolved")
	assert.Contains(t, text, w.en(messages.CommonNo), "says it is not urgent")
	entries := []store.AuditEntry{}
	require.NoError(t, w.st.Audit(context.Background(), func(e *store.AuditEntry) error {
		if e.Action == "broadcast_created" {
			entries = append(entries, *e)
		}
		return nil
	}))
	require.Len(t, entries, 1)
	assert.Equal(t, "the coalition has been dissolved", entries[0].Details["text_en"], "the audit log keeps every text")
}

// A coordinator's broadcast waited for approval while its audience grew
// far past the count the approval request showed; the approval sent it
// to everyone.
func TestBypassAnApprovalOfFewerPeopleThanTheAudienceReachesNow(t *testing.T) {
	w := newWorld(t, bottest.Config{Threshold: 2})
	w.onboard("ruth")
	w.role("ruth", store.RoleCoordinator)
	w.people("jenin", "p1", "p2", "p3")
	w.onboard("admin")
	w.broadcastTo("ruth", "نص البث", "the text", "jenin")
	require.Equal(t, store.BroadcastAwaitingApproval, broadcasts(t, w)[0].Status)
	require.Equal(t, 3, broadcasts(t, w)[0].Recipients)

	w.people("jenin", "p4", "p5", "p6", "p7")
	got := w.say("admin", "/approvebroadcast 1")
	assert.Contains(t, got, w.en(messages.BroadcastAudienceGrew), "the approver hears why nothing went out")
	assert.Contains(t, got, "Audience: People of one governorate: Jenin — 7;", "and is asked again with the count it reaches now")
	assert.Equal(t, store.BroadcastAwaitingApproval, broadcasts(t, w)[0].Status)
	assert.Empty(t, w.pending(true), "nothing went out")

	w.say("admin", "/approvebroadcast 1")
	assert.Equal(t, store.BroadcastQueued, broadcasts(t, w)[0].Status)
	assert.Len(t, w.pending(true), 7)
}

// An admin sent /pause twice; the other admins were told twice, and the
// pause read as the second admin's from the second time.
func TestPauseTwiceSaysItIsPausedAlready(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	w.onboard("ruth")
	w.role("ruth", store.RoleAdmin)
	w.onboard("admin")
	w.say("admin", "/pause")
	assert.Contains(t, w.say("ruth", "/pause"), w.en(messages.PauseAlready))
	assert.NotContains(t, w.say("admin", "/menu"), "paused all sending", "told once, when it was paused")
}

// While one admin had paused sending, the other admins got no answer to
// anything they wrote, and heard of the pause only once it was lifted:
// the notice of the pause was held, and the answers queued after it.
func TestDuringAPauseTheOtherAdminsAreToldAndAnswered(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	w.onboard("ruth")
	w.role("ruth", store.RoleAdmin)
	w.people("jenin", "p1")
	w.onboard("admin")
	w.say("admin", "/pause")
	got := w.say("ruth", "/menu")
	assert.Contains(t, got, "paused all sending", "told of the pause")
	assert.Contains(t, got, w.en(messages.MenuTitle), "and answered")
	assert.Contains(t, w.say("p1", "/menu"), w.en(messages.MenuTitle), "everyone is answered")
}

// /remind list showed a reminder waiting for approval as if it would go
// out at its time.
func TestRemindListSaysWhichRemindersWaitForApproval(t *testing.T) {
	w := newWorld(t, bottest.Config{Threshold: 2})
	w.onboard("ruth")
	w.role("ruth", store.RoleCoordinator)
	w.people("nablus", "p1", "p2", "p3")
	w.onboard("admin")
	w.script("ruth", "/remind", "1", "تذكير للجميع", "skip", "1", "2", "every day at 6 pm", "1")
	rs, err := w.st.Reminders(context.Background())
	require.NoError(t, err)
	require.Len(t, rs, 1)
	require.True(t, rs[0].AwaitingApproval)
	assert.Contains(t, w.say("ruth", "/remind list"), w.en(messages.BroadcastStatusAwaiting))
	w.say("admin", "/approvereminder 1")
	assert.NotContains(t, w.say("ruth", "/remind list"), w.en(messages.BroadcastStatusAwaiting))
}

// /broadcast list showed a broadcast waiting for approval as "sent 0 of 0".
func TestBroadcastListCountsABroadcastWaitingForApproval(t *testing.T) {
	w := newWorld(t, bottest.Config{Threshold: 2})
	w.onboard("ruth")
	w.role("ruth", store.RoleCoordinator)
	w.people("jenin", "p1", "p2", "p3")
	w.onboard("admin")
	w.broadcastTo("ruth", "نص البث", "the text", "jenin")
	require.Equal(t, store.BroadcastAwaitingApproval, broadcasts(t, w)[0].Status)
	got := w.say("ruth", "/broadcast list")
	assert.Contains(t, got, "sent 0 of 3")
}
