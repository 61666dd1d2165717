package bot_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/messages"
	"mobilise/store"
)

func TestStopHoldsAgainstGreetingsLinksAndQueuedBroadcasts(t *testing.T) {
	e := newEngine(t)
	e.campaign("walk", store.KindPledge, 0)
	amal := e.onboard("amal")
	require.NoError(t, e.st.Enqueue(
		store.OutboxEntry{To: "test:amal", ContactID: amal.ID, Text: "a broadcast queued earlier", Bulk: true},
		store.OutboxEntry{To: "test:amal", ContactID: amal.ID, Text: "the answer to something she asked"},
	))
	assert.Contains(t, e.say("amal", "ايقاف"), e.cat.Text("en", messages.StopDone, nil))
	assert.Empty(t, e.pending(true), "queued broadcasts are withdrawn")
	assert.Len(t, e.pending(false), 1, "notices she asked for stay")

	for _, hello := range []string{"السلام عليكم", "مرحبا", "hello", "/start walk", "start walk"} {
		e.say("amal", hello)
		c, err := e.st.Contact(amal.ID)
		require.NoError(t, err)
		assert.True(t, c.Stopped, "%q does not resume messages", hello)
	}
	assert.Contains(t, e.say("amal", "/start"), e.en(messages.StartResumed), "a plain /start does")
}

func TestRemindersCannotSpam(t *testing.T) {
	e := newEngine(t, bot.WithApprovalThreshold(2))
	e.onboard("coord")
	e.role("coord", store.RoleCoordinator)
	out := e.script("coord", "/remind", "1", "تذكير", "skip", "1", "2", "*/5 * * * *")
	assert.Contains(t, out, e.en(messages.RemindTooOften))
	out = e.say("coord", "every day at 9")
	assert.Contains(t, out, "Check the reminder")
	e.onboard("a")
	e.onboard("b")
	out = e.say("coord", "1")
	assert.Contains(t, out, "only an admin can create it", "three recipients, above the threshold of two")
	rs, err := e.st.Reminders()
	require.NoError(t, err)
	assert.Empty(t, rs)
}

func TestClosingACampaignByHandTellsPledgersAndDropsEventReminders(t *testing.T) {
	e := newEngine(t)
	e.onboard("coord")
	e.role("coord", store.RoleCoordinator)
	e.script("coord", "/newcampaign", "حملة", "skip", "دعوة", "skip", "walk", "3", "10", "now", "skip", "2026-12-20 18:00", "Jenin", "48 ٢", "1")
	rs, err := e.st.Reminders()
	require.NoError(t, err)
	require.Len(t, rs, 2)
	assert.ElementsMatch(t, []time.Time{
		time.Date(2026, 12, 18, 16, 0, 0, 0, time.UTC), time.Date(2026, 12, 20, 14, 0, 0, 0, time.UTC),
	}, []time.Time{rs[0].NextFireAt.UTC(), rs[1].NextFireAt.UTC()}, "48 and 2 hours before 18:00 Hebron")
	e.onboard("amal")
	e.say("amal", "/pledge walk")
	e.rec.take("amal")
	e.say("coord", "/closecampaign walk")
	msgs := e.rec.take("amal")
	require.Len(t, msgs, 1)
	assert.Contains(t, msgs[0].Text, "without reaching its target")
	rs, err = e.st.Reminders()
	require.NoError(t, err)
	assert.Empty(t, rs, "no reminders for an event of a closed campaign")
	require.NoError(t, e.svc.RunLifecycle(context.Background()))
	assert.Empty(t, e.rec.take("amal"), "told once")
}

func TestARecurringReminderThatMissedASlotStaysScheduled(t *testing.T) {
	e := newEngine(t)
	e.onboard("coord")
	e.role("coord", store.RoleCoordinator)
	e.script("coord", "/remind", "1", "اجتماع", "skip", "1", "2", "every Friday at 10:00", "1")
	// down from Thursday to Saturday
	e.now = time.Date(2026, 12, 12, 9, 0, 0, 0, time.UTC)
	e.rec.take("coord")
	require.NoError(t, e.svc.FireDueReminders(context.Background()))
	assert.Empty(t, e.pending(true), "too late to send")
	told := e.rec.take("coord")
	require.Len(t, told, 1)
	assert.Contains(t, told[0].Text, "too late")
	assert.Contains(t, e.say("coord", "/remind list"), "2026-12-18 10:00", "still scheduled, for next Friday")
}

func TestNoticesToEveryPledgerAreBulk(t *testing.T) {
	var got []bot.Notice
	e := newEngine(t, bot.WithNotifier(func(_ context.Context, n []bot.Notice) error { got = append(got, n...); return nil }))
	e.campaign("walk", store.KindPledge, 2)
	for i := range 2 {
		e.onboard(fmt.Sprint("p", i))
		e.say(fmt.Sprint("p", i), "/pledge walk")
	}
	require.NotEmpty(t, got)
	for _, n := range got {
		assert.True(t, n.Bulk, "%s waits out quiet hours and keeps the bulk pace", n.Kind)
		assert.True(t, n.RequireConsent)
	}
}

func TestACampaignIsCheckedAgainWhenItIsCreated(t *testing.T) {
	e := newEngine(t)
	e.onboard("coord")
	e.role("coord", store.RoleCoordinator)
	// the event is at 12:30 Hebron, an hour from now; the coordinator confirms two hours later
	e.script("coord", "/newcampaign", "حملة", "skip", "دعوة", "skip", "late", "2", "now", "skip", "2026-12-07 12:30", "Jenin", "skip")
	e.now = e.now.Add(2 * time.Hour)
	out := e.say("coord", "1")
	assert.Contains(t, out, e.en(messages.ErrDatePast))
	assert.Contains(t, out, "When is the event?")
	_, err := e.st.CampaignByCode("late")
	assert.ErrorIs(t, err, store.ErrNotFound, "nothing stored with a time already past")
	assert.Contains(t, e.say("coord", "2026-12-08 18:00"), "Please check the campaign", "corrected, back to the summary")
	assert.Contains(t, e.say("coord", "1"), "The campaign is created")
}

func TestHelpInTheMiddleOfAWizardKeepsIt(t *testing.T) {
	e := newEngine(t)
	e.onboard("rep")
	e.say("rep", "/register")
	e.say("rep", "مركز الحوار")
	out := e.say("rep", "/help")
	assert.Contains(t, out, e.en(messages.HelpIntro))
	assert.Contains(t, out, e.en(messages.RegisterNameEN), "then the question again")
	assert.Contains(t, e.say("rep", "skip"), e.en(messages.RegisterField), "and the wizard goes on")
}
