package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/messages"
	"mobilise/store"
)

func (e *engine) role(id string, r store.Role) {
	c, err := e.st.ContactByAddress("test:" + id)
	require.NoError(e.t, err)
	_, err = e.st.UpdateContact(c.ID, func(c *store.Contact) error { c.Role = r; return nil })
	require.NoError(e.t, err)
}

func (e *engine) pending(bulk bool) []store.OutboxEntry {
	entries, err := e.st.PendingOutbox("test", bulk, 0, 100000)
	require.NoError(e.t, err)
	return entries
}

// script sends each line from id and returns the last answer.
func (e *engine) script(id string, lines ...string) string {
	var out string
	for _, l := range lines {
		out = e.say(id, l)
	}
	return out
}

func TestBroadcastAudiencesAndExclusions(t *testing.T) {
	e := newEngine(t)
	walk := e.campaign("walk", store.KindBoth, 0)
	e.onboard("coord")
	e.role("coord", store.RoleCoordinator)
	// amal: Arabic, Hebron, pledged; bilal: English, pledged and signed up;
	// carim: consented then stopped; dana: never consented; emad: blocked the bot
	e.script("amal", "/start", "1", "نعم", "الخليل", "/pledge walk")
	e.script("bilal", "/start", "2", "yes", "skip", "/pledge walk", "/signup walk")
	e.script("carim", "/start", "2", "yes", "skip", "/stop")
	e.script("dana", "/start", "2", "no", "skip")
	e.script("emad", "/start", "2", "yes", "skip")
	e.svc.HandleIncoming(context.Background(), bot.Incoming{Kind: bot.KindBlocked, From: bot.Address{Channel: "test", ID: "emad"}})
	e.role("amal", store.RoleMember)

	cases := []struct {
		label string
		pick  []string // answers after the text steps
		want  []string
	}{
		{"everyone", []string{"1"}, []string{"coord", "amal", "bilal"}},
		{"members", []string{"2"}, []string{"coord", "amal"}}, // staff rank above members
		{"governorate", []string{"3", "11"}, []string{"amal"}},
		{"language", []string{"4", "English"}, []string{"coord", "bilal"}},
		{"pledgers", []string{"5"}, []string{"amal", "bilal"}},
		{"not pledged", []string{"6"}, []string{"coord"}},
		{"signups", []string{"7"}, []string{"bilal"}},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			e.say("coord", "/broadcast")
			e.say("coord", "2") // the campaign
			e.say("coord", "تعالوا إلى المسيرة")
			e.say("coord", "Come to the walk")
			var preview string
			for _, p := range tc.pick {
				preview = e.say("coord", p)
			}
			assert.Contains(t, preview, fmt.Sprintf("Recipients: %d", len(tc.want)))
			e.say("coord", "1") // send
			entries := e.pending(true)
			var got []string
			for _, en := range entries {
				got = append(got, strings.TrimPrefix(en.To, "test:"))
				if en.To == "test:bilal" || en.To == "test:coord" {
					assert.Equal(t, "Come to the walk", en.Text, "each gets their language")
				} else {
					assert.Equal(t, "تعالوا إلى المسيرة", en.Text)
				}
				require.NotEmpty(t, en.Buttons)
				assert.Equal(t, "/campaign walk", en.Buttons[0][0].Payload)
			}
			assert.ElementsMatch(t, tc.want, got)
			// clear the queue for the next case
			bs, err := e.st.Broadcasts()
			require.NoError(t, err)
			_, err = e.st.CancelBroadcast(bs[len(bs)-1].ID)
			require.NoError(t, err)
		})
	}
	assert.NotZero(t, walk.ID)
}

func TestBroadcastPreviewTestSendAndCancel(t *testing.T) {
	e := newEngine(t)
	e.onboard("coord")
	e.role("coord", store.RoleCoordinator)
	for i := range 5 {
		e.onboard(fmt.Sprint("p", i))
	}
	e.script("coord", "/broadcast", "1", "رسالة تجريبية", "skip")
	preview := e.say("coord", "1")
	assert.Contains(t, preview, "Recipients: 6")
	assert.Contains(t, preview, "test\u2069: 6")
	e.say("coord", "English")
	out := e.say("coord", "3") // test to me
	assert.Contains(t, out, "رسالة تجريبية")
	assert.Contains(t, out, e.en(messages.BroadcastTestSent))
	assert.Empty(t, e.pending(true), "a test sends nothing to anyone else")
	out = e.say("coord", "1")
	assert.Contains(t, out, "Broadcast no.")
	assert.Len(t, e.pending(true), 6)

	out = e.say("coord", "/broadcast cancel")
	assert.Contains(t, out, "will not be sent")
	assert.Empty(t, e.pending(true))
	bs, err := e.st.Broadcasts()
	require.NoError(t, err)
	require.Len(t, bs, 1)
	assert.Equal(t, store.BroadcastCancelled, bs[0].Status)
	assert.Contains(t, e.say("coord", "/broadcast cancel"), e.en(messages.BroadcastNothingToCancel))

	var actions []string
	require.NoError(t, e.st.Audit(func(a *store.AuditEntry) error { actions = append(actions, a.Action); return nil }))
	assert.Equal(t, []string{"broadcast_created", "broadcast_cancelled"}, actions)
}

func TestLargeBroadcastNeedsASecondPerson(t *testing.T) {
	e := newEngine(t, bot.WithApprovalThreshold(3))
	e.onboard("admin")
	e.onboard("coord")
	e.role("coord", store.RoleCoordinator)
	e.onboard("coord2")
	e.role("coord2", store.RoleCoordinator)
	e.onboard("p1")
	out := e.script("coord", "/broadcast", "1", "نص البث", "skip", "1", "1")
	assert.Contains(t, out, "a second person")
	assert.Empty(t, e.pending(true), "nothing goes out before approval")
	bs, err := e.st.Broadcasts()
	require.NoError(t, err)
	require.Len(t, bs, 1)
	id := fmt.Sprint(bs[0].ID)

	adminMsgs := e.rec.take("admin")
	require.NotEmpty(t, adminMsgs)
	req := adminMsgs[len(adminMsgs)-1]
	assert.Contains(t, req.Text, "نص البث", "the approver sees the text")
	require.Len(t, req.Buttons, 1)

	assert.Contains(t, e.say("coord2", "/approvebroadcast "+id), e.en(messages.ErrNotAllowed), "coordinators cannot approve")
	assert.Empty(t, e.pending(true))
	e.rec.take("coord")
	got := e.press("admin", req.Buttons[0][0].Payload)
	require.NotEmpty(t, got)
	assert.Len(t, e.pending(true), 4)
	told := e.rec.take("coord")
	require.Len(t, told, 1)
	assert.Contains(t, told[0].Text, "An admin approved broadcast")
	b, err := e.st.Broadcast(bs[0].ID)
	require.NoError(t, err)
	assert.NotZero(t, b.ApprovedBy)
	assert.Contains(t, e.say("admin", "/approvebroadcast "+id), "There is no broadcast", "approving twice does nothing")
}

func TestAdminCannotApproveTheirOwnBroadcast(t *testing.T) {
	e := newEngine(t, bot.WithApprovalThreshold(1), bot.WithAdmins("test:admin2"))
	e.onboard("admin")
	e.onboard("admin2")
	e.onboard("p1")
	// an admin's account can be stolen too: their large broadcast waits for another admin
	out := e.script("admin", "/broadcast", "1", "نص", "skip", "1", "1")
	assert.Contains(t, out, "a second person")
	assert.Empty(t, e.pending(true))
	bs, err := e.st.Broadcasts()
	require.NoError(t, err)
	id := fmt.Sprint(bs[0].ID)
	assert.Contains(t, e.say("admin", "/approvebroadcast "+id), e.en(messages.BroadcastOwnApproval))
	assert.Empty(t, e.pending(true))
	e.say("admin2", "/approvebroadcast "+id)
	assert.Len(t, e.pending(true), 3)
}

func TestPauseAndQuietHoursHoldSending(t *testing.T) {
	e := newEngine(t)
	e.onboard("admin")
	now := e.now // 11:30 in Hebron
	assert.True(t, e.svc.Hold(now, false, true).IsZero(), "daytime: send")
	night := time.Date(2026, 12, 7, 21, 0, 0, 0, time.UTC) // 23:00 in Hebron
	until := e.svc.Hold(night, false, true)
	assert.True(t, until.Equal(time.Date(2026, 12, 8, 5, 0, 0, 0, time.UTC)), "held until 07:00 Hebron, got %s", until)
	assert.True(t, e.svc.Hold(night, true, true).IsZero(), "urgent goes through")
	assert.True(t, e.svc.Hold(night, false, false).IsZero(), "a reply-like notice is not bulk")

	assert.Contains(t, e.say("admin", "/pause"), "All sending on every channel is stopped")
	assert.False(t, e.svc.Hold(now, true, false).IsZero(), "paused: even urgent waits")
	assert.Contains(t, e.say("admin", "/resume"), "resumed")
	assert.True(t, e.svc.Hold(now, false, true).IsZero())
}

func TestRemindersOneOffRecurringMissedAndRestart(t *testing.T) {
	e := newEngine(t, bot.WithReminderGrace(time.Hour))
	e.onboard("coord")
	e.role("coord", store.RoleCoordinator)
	e.onboard("amal")
	out := e.script("coord", "/remind", "1", "تذكير بالاجتماع", "skip", "1", "1", "2026-12-07 14:00")
	assert.Contains(t, out, "First sending")
	assert.Contains(t, e.say("coord", "1"), "Reminder no.")
	e.script("coord", "/remind", "1", "اجتماع أسبوعي", "Weekly meeting", "1", "2", "every Friday at 10:00")
	assert.Contains(t, e.say("coord", "1"), "2026-12-11 10:00")
	list := e.say("coord", "/remind list")
	assert.Contains(t, list, "0 10 * * 5")

	// not yet due
	require.NoError(t, e.svc.FireDueReminders(context.Background()))
	assert.Empty(t, e.pending(true))

	// 14:05 Hebron: the one-off fires, once
	e.now = time.Date(2026, 12, 7, 12, 5, 0, 0, time.UTC)
	require.NoError(t, e.svc.FireDueReminders(context.Background()))
	require.NoError(t, e.svc.FireDueReminders(context.Background()))
	assert.Len(t, e.pending(true), 2, "coord and amal, once")
	clearOutbox(t, e)

	// the bot is down over Friday 10:00 for 30 minutes, restarts: the slot fires once
	e.now = time.Date(2026, 12, 11, 8, 30, 0, 0, time.UTC)
	e.restart()
	e.build(bot.WithReminderGrace(time.Hour))
	require.NoError(t, e.svc.FireDueReminders(context.Background()))
	e.restart()
	e.build(bot.WithReminderGrace(time.Hour))
	require.NoError(t, e.svc.FireDueReminders(context.Background()))
	entries := e.pending(true)
	assert.Len(t, entries, 2, "the recurring slot fired once across the restart")
	for _, en := range entries {
		if en.To == "test:coord" {
			assert.Equal(t, "Weekly meeting", en.Text)
		}
	}
	clearOutbox(t, e)
	rs, err := e.st.Reminders()
	require.NoError(t, err)
	for _, r := range rs {
		if r.Spec != "" {
			assert.Equal(t, time.Date(2026, 12, 18, 8, 0, 0, 0, time.UTC), r.NextFireAt, "armed for next Friday")
		}
	}

	// a one-off whose time passed more than the grace period ago is missed and its creator told
	e.script("coord", "/remind", "1", "متأخر", "skip", "1", "1", "2026-12-12 09:00", "1")
	e.now = time.Date(2026, 12, 12, 12, 0, 0, 0, time.UTC)
	e.rec.take("coord")
	require.NoError(t, e.svc.FireDueReminders(context.Background()))
	assert.Empty(t, e.pending(true), "a missed reminder is not sent late")
	told := e.rec.take("coord")
	require.NotEmpty(t, told)
	assert.Contains(t, told[0].Text, "too late")

	// cancel
	var weekly uint64
	rs, err = e.st.Reminders()
	require.NoError(t, err)
	for _, r := range rs {
		if r.Spec != "" {
			weekly = r.ID
		}
	}
	assert.Contains(t, e.say("coord", fmt.Sprint("/remind cancel ", weekly)), "is cancelled")
	assert.Contains(t, e.say("coord", "/remind cancel 999"), "There is no reminder")
}

func clearOutbox(t *testing.T, e *engine) {
	t.Helper()
	for _, bulk := range []bool{true, false} {
		entries, err := e.st.PendingOutbox("test", bulk, 0, 100000)
		require.NoError(t, err)
		for _, en := range entries {
			require.NoError(t, e.st.OutboxDone(en.ID))
		}
	}
}

func TestEventRemindersAndCampaignLifecycle(t *testing.T) {
	e := newEngine(t)
	e.onboard("coord")
	e.role("coord", store.RoleCoordinator)
	// a campaign with an event on Dec 10 at 18:00 Hebron, ending Dec 12, target 3
	e.script("coord", "/newcampaign", "حملة الحوار", "Dialogue", "نتحاور", "We talk", "dialogue", "3", "3",
		"now", "2026-12-12 12:00", "2026-12-10 18:00", "Jenin", "skip")
	assert.Contains(t, e.say("coord", "1"), "The campaign is created")
	rs, err := e.st.Reminders()
	require.NoError(t, err)
	require.Len(t, rs, 2, "24 hours and 1 hour before")

	e.script("amal", "/start", "2", "yes", "skip", "/pledge dialogue", "/signup dialogue")
	e.script("bilal", "/start", "2", "yes", "skip", "/pledge dialogue")

	// a day before the event
	e.now = time.Date(2026, 12, 9, 16, 0, 0, 0, time.UTC)
	require.NoError(t, e.svc.FireDueReminders(context.Background()))
	entries := e.pending(true)
	require.Len(t, entries, 1, "only those signed up")
	assert.Equal(t, "test:amal", entries[0].To)
	assert.Contains(t, entries[0].Text, "Dialogue")
	assert.Contains(t, entries[0].Text, "Jenin")
	clearOutbox(t, e)

	// the end passes with 2 of 3: pledgers are told honestly, once
	e.now = time.Date(2026, 12, 12, 11, 0, 0, 0, time.UTC)
	e.rec.take("amal")
	e.rec.take("bilal")
	require.NoError(t, e.svc.RunLifecycle(context.Background()))
	require.NoError(t, e.svc.RunLifecycle(context.Background()))
	for _, who := range []string{"amal", "bilal"} {
		msgs := e.rec.take(who)
		require.Len(t, msgs, 1, who)
		assert.Contains(t, msgs[0].Text, "without reaching its target")
	}
	c, err := e.st.CampaignByCode("dialogue")
	require.NoError(t, err)
	assert.True(t, c.Closed)
	assert.Contains(t, e.say("amal", "/pledge dialogue"), e.en(messages.CampaignClosed))
}

func TestMilestonesAreAnnouncedOnceAndNotToLaterPledgers(t *testing.T) {
	e := newEngine(t)
	e.campaign("walk", store.KindPledge, 4)
	for _, p := range []string{"a", "b", "c", "d"} {
		e.onboard(p)
	}
	e.say("a", "/pledge walk") // 25 %: nobody else to tell
	assert.Empty(t, e.rec.take("a"))
	e.say("b", "/pledge walk") // 50 %: a hears of it
	msgs := e.rec.take("a")
	require.Len(t, msgs, 1)
	assert.Contains(t, msgs[0].Text, "50%")
	e.say("c", "/pledge walk") // 75 %
	assert.Len(t, e.rec.take("a"), 1)
	assert.Len(t, e.rec.take("b"), 1)
	e.say("d", "/pledge walk") // 100 %: everyone, the target notice
	for _, p := range []string{"a", "b", "c"} {
		msgs := e.rec.take(p)
		require.Len(t, msgs, 1, p)
		assert.Contains(t, msgs[0].Text, "reached its target")
	}
}

// editor is a recording channel that can edit what it sent.
type editor struct {
	*recorder
	edits []string
}

func (e *editor) Edit(_ context.Context, id string, msg bot.Outgoing) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.edits = append(e.edits, id+": "+msg.Text)
	return nil
}

func TestBroadcastProgressIsOneMessageEditedInPlace(t *testing.T) {
	e := newEngine(t)
	ed := &editor{recorder: e.rec}
	e.svc.AddSender(ed)
	e.onboard("coord")
	e.role("coord", store.RoleCoordinator)
	e.onboard("amal")
	e.script("coord", "/broadcast", "1", "نص", "skip", "1", "1")
	bs, err := e.st.Broadcasts()
	require.NoError(t, err)
	id := bs[0].ID

	require.NoError(t, e.svc.BroadcastProgress(context.Background(), id))
	first := e.rec.take("coord")
	require.Len(t, first, 1, "the first report is a new message")
	assert.Contains(t, first[0].Text, "left 2")

	entries := e.pending(true)
	require.NoError(t, e.st.OutboxDone(entries[0].ID))
	require.NoError(t, e.svc.BroadcastProgress(context.Background(), id))
	assert.Empty(t, e.rec.take("coord"), "later reports edit it")
	require.Len(t, ed.edits, 1)
	assert.Contains(t, ed.edits[0], "sent 1")

	require.NoError(t, e.st.OutboxDone(entries[1].ID))
	require.NoError(t, e.svc.BroadcastProgress(context.Background(), id))
	require.Len(t, ed.edits, 2)
	assert.Contains(t, ed.edits[1], "is finished: sent 2")
	require.NoError(t, e.svc.BroadcastProgress(context.Background(), id))
	assert.Len(t, ed.edits, 2, "the final report goes out once")
	var finished []map[string]string
	require.NoError(t, e.st.Audit(func(a *store.AuditEntry) error {
		if a.Action == "broadcast_finished" {
			finished = append(finished, a.Details)
		}
		return nil
	}))
	require.Len(t, finished, 1)
	assert.Equal(t, "2", finished[0]["sent"])
}

func TestBroadcastQueueingResumesAfterACrash(t *testing.T) {
	e := newEngine(t)
	e.onboard("coord")
	e.onboard("amal")
	// confirmed, then the process died before the first entry was written
	b := &store.Broadcast{TextAR: "نص", Audience: store.Audience{Kind: store.AudienceEveryone}, Status: store.BroadcastQueued, CreatedAt: e.now}
	require.NoError(t, e.st.CreateBroadcast(b))
	assert.Empty(t, e.pending(true))
	e.restart()
	e.build()
	require.NoError(t, e.svc.ResumeBroadcasts())
	assert.Len(t, e.pending(true), 2)
	require.NoError(t, e.svc.ResumeBroadcasts())
	assert.Len(t, e.pending(true), 2, "resuming twice queues nobody twice")
}
