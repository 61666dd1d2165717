package coalition_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/coalition"
	"mobilise/bot/schedule"
	"mobilise/messages"
	"mobilise/store"
)

// The rules of the coalition, each tested at the operation that enforces
// it (the fixture's threshold is 3 people).

// Rule 1: any bulk send to more than the threshold needs a second,
// different person's approval, admins' sends included.
func TestBroadcastOverTheThresholdWaitsForASecondAdmin(t *testing.T) {
	for _, role := range []store.Role{store.RoleCoordinator, store.RoleAdmin} {
		t.Run(string(role), func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t)
			author := f.person(role)
			admins := []*store.Contact{f.person(store.RoleAdmin), f.person(store.RoleAdmin)}
			f.crowd(4, "jenin")

			res, err := f.co.Broadcasts.Submit(ctx, f.actor(author), coalition.BroadcastDraft{TextAR: "نص", TextEN: "text", Audience: governorate("jenin")})
			require.NoError(t, err)
			assert.True(t, res.AwaitingApproval, "%s's send to 4 waits", role)
			assert.Empty(t, f.bulkOf(res.Broadcast.ID), "nothing queued before the approval")
			for _, a := range admins {
				assert.Len(t, f.to(a, "broadcast_approval"), 1, "every admin is asked")
			}
			assert.Empty(t, f.to(author, "broadcast_approval"), "but not the author")

			_, err = f.co.Broadcasts.Approve(ctx, f.actor(author), res.Broadcast.ID)
			if role == store.RoleAdmin {
				assert.ErrorIs(t, err, coalition.ErrOwnApproval, "an admin cannot approve their own")
			} else {
				assert.ErrorIs(t, err, coalition.ErrNotAllowed)
			}
			bc, err := f.co.Broadcasts.Approve(ctx, f.actor(admins[0]), res.Broadcast.ID)
			require.NoError(t, err)
			assert.Equal(t, admins[0].ID, bc.ApprovedBy)
			assert.Len(t, f.bulkOf(res.Broadcast.ID), 4, "queued once approved")
			_, err = f.co.Broadcasts.Approve(ctx, f.actor(admins[1]), res.Broadcast.ID)
			assert.ErrorIs(t, err, coalition.ErrDecided, "approved once")
		})
	}
}

func TestSmallBroadcastGoesAtOnce(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	admin := f.person(store.RoleAdmin)
	f.crowd(2, "tubas")
	res, err := f.co.Broadcasts.Submit(ctx, f.actor(f.person(store.RoleCoordinator)), coalition.BroadcastDraft{TextAR: "نص", Audience: governorate("tubas")})
	require.NoError(t, err)
	assert.False(t, res.AwaitingApproval)
	assert.Len(t, f.bulkOf(res.Broadcast.ID), 2)
	assert.Empty(t, f.to(admin, "broadcast_approval"))
}

// Rule 1, split audiences: an author's bulk sends of 24 hours count together.
func TestSplitAudiencesCountTogether(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.person(store.RoleAdmin)
	author := f.actor(f.person(store.RoleCoordinator))
	f.crowd(2, "jenin")
	f.crowd(2, "tubas")
	first, err := f.co.Broadcasts.Submit(ctx, author, coalition.BroadcastDraft{TextAR: "جنين", Audience: governorate("jenin")})
	require.NoError(t, err)
	require.False(t, first.AwaitingApproval, "2 alone is under the threshold")

	p, err := f.co.Broadcasts.Preview(ctx, author, coalition.BroadcastDraft{TextAR: "طوباس", Audience: governorate("tubas")})
	require.NoError(t, err)
	assert.True(t, p.NeedsApproval, "the preview says so before the submit")
	assert.Equal(t, 2, p.RecentSends)
	second, err := f.co.Broadcasts.Submit(ctx, author, coalition.BroadcastDraft{TextAR: "طوباس", Audience: governorate("tubas")})
	require.NoError(t, err)
	assert.True(t, second.AwaitingApproval, "2 + 2 within a day is over 3")

	// a reminder counts with them too
	res, err := f.co.Reminders.Create(ctx, author, coalition.ReminderDraft{TextAR: "تذكير", Audience: governorate("jenin"), At: f.clock().Add(time.Hour)})
	require.NoError(t, err)
	assert.True(t, res.AwaitingApproval)

	// a day later the first send no longer counts
	f.advance(25 * time.Hour)
	later, err := f.co.Broadcasts.Submit(ctx, author, coalition.BroadcastDraft{TextAR: "طوباس", Audience: governorate("tubas")})
	require.NoError(t, err)
	assert.False(t, later.AwaitingApproval)
}

// Rule 1 for reminders: one-off and recurring, admins too.
func TestRemindersOverTheThresholdWaitForApproval(t *testing.T) {
	for _, role := range []store.Role{store.RoleCoordinator, store.RoleAdmin} {
		for _, recurring := range []bool{false, true} {
			t.Run(string(role)+" recurring "+strconv.FormatBool(recurring), func(t *testing.T) {
				ctx := context.Background()
				f := newFixture(t)
				author := f.person(role)
				admin := f.person(store.RoleAdmin)
				f.crowd(4, "hebron")
				d := coalition.ReminderDraft{TextAR: "تذكير", TextEN: "reminder", Audience: governorate("hebron"), At: f.clock().Add(time.Hour)}
				if recurring {
					d.At, d.Schedule = time.Time{}, &schedule.Schedule{Hour: 12}
				}
				res, err := f.co.Reminders.Create(ctx, f.actor(author), d)
				require.NoError(t, err)
				require.True(t, res.AwaitingApproval)
				assert.Len(t, f.to(admin, "reminder_approval"), 1)
				assert.Empty(t, f.to(author, "reminder_approval"))

				f.advance(61 * time.Minute) // both are due: 10:30 UTC once, 12:00 Hebron daily
				require.NoError(t, f.co.Reminders.FireDue(ctx))
				assert.Empty(t, f.ofKind(store.KindReminder), "no firing before the approval")

				_, err = f.co.Reminders.Approve(ctx, f.actor(author), res.Reminder.ID)
				assert.Error(t, err, "the author does not approve")
				_, err = f.co.Reminders.Approve(ctx, f.actor(admin), res.Reminder.ID)
				require.NoError(t, err)
				require.NoError(t, f.co.Reminders.FireDue(ctx))
				assert.Len(t, f.ofKind(store.KindReminder), 4, "fires once approved")
			})
		}
	}
}

// Rule 1: a recurring reminder is checked again at each firing.
func TestRecurringReminderGrownPastItsApprovalWaits(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	admin := f.person(store.RoleAdmin)
	author := f.person(store.RoleCoordinator)
	f.crowd(2, "jenin")
	res, err := f.co.Reminders.Create(ctx, f.actor(author), coalition.ReminderDraft{TextAR: "كل يوم", Audience: governorate("jenin"),
		Schedule: &schedule.Schedule{Hour: 12}})
	require.NoError(t, err)
	require.False(t, res.AwaitingApproval, "2 people need no approval")

	f.advance(31 * time.Minute) // 12:01 in Hebron
	require.NoError(t, f.co.Reminders.FireDue(ctx))
	require.Len(t, f.ofKind(store.KindReminder), 2, "the first firing reaches 2")

	f.crowd(5, "jenin")
	f.advance(24 * time.Hour)
	require.NoError(t, f.co.Reminders.FireDue(ctx))
	assert.Len(t, f.ofKind(store.KindReminder), 2, "the grown firing waits")
	r, err := f.st.Reminder(ctx, res.Reminder.ID)
	require.NoError(t, err)
	assert.True(t, r.AwaitingApproval)
	assert.Equal(t, 7, r.Recipients)
	assert.Len(t, f.to(admin, "reminder_approval"), 1, "the admins are asked")
	assert.Len(t, f.to(author, "reminder_waits"), 1, "its author is told")

	_, err = f.co.Reminders.Approve(ctx, f.actor(admin), r.ID)
	require.NoError(t, err)
	require.NoError(t, f.co.Reminders.FireDue(ctx))
	assert.Len(t, f.ofKind(store.KindReminder), 9, "that firing goes to the 7 once approved")

	// the approval covers a tenth more, not more
	f.crowd(1, "jenin")
	f.advance(24 * time.Hour)
	require.NoError(t, f.co.Reminders.FireDue(ctx))
	assert.Len(t, f.ofKind(store.KindReminder), 9, "8 is more than 7 plus a tenth: waits again")
	r, err = f.st.Reminder(ctx, res.Reminder.ID)
	require.NoError(t, err)
	assert.True(t, r.AwaitingApproval)
}

// Rule 1: an author has a bounded number of live recurring reminders.
func TestRecurringRemindersAreBounded(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, coalition.WithMaxRecurring(3))
	author := f.actor(f.person(store.RoleAdmin))
	for i := range 3 {
		_, err := f.co.Reminders.Create(ctx, author, coalition.ReminderDraft{TextAR: "تذكير", Audience: governorate("gaza"),
			Schedule: &schedule.Schedule{Hour: 8 + i}})
		require.NoError(t, err)
	}
	_, err := f.co.Reminders.Create(ctx, author, coalition.ReminderDraft{TextAR: "تذكير", Audience: governorate("gaza"),
		Schedule: &schedule.Schedule{Hour: 20}})
	assert.ErrorIs(t, err, coalition.ErrTooManyReminders)
	_, err = f.co.Reminders.Create(ctx, author, coalition.ReminderDraft{TextAR: "مرة", Audience: governorate("gaza"), At: f.clock().Add(time.Hour)})
	assert.NoError(t, err, "one-off reminders are not bounded by it")
	_, err = f.co.Reminders.Create(ctx, f.actor(f.person(store.RoleCoordinator)), coalition.ReminderDraft{TextAR: "تذكير",
		Audience: governorate("gaza"), Schedule: &schedule.Schedule{Cron: "*/20 * * * *"}})
	assert.ErrorIs(t, err, coalition.ErrTooOften)
}

// Rule 2: "a different person" holds across /link, and the audit log shows
// the one identity.
func TestSelfApprovalThroughALinkedAccountIsRefused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	admin := f.person(store.RoleAdmin)
	f.person(store.RoleAdmin)
	f.crowd(4, "jenin")
	res, err := f.co.Broadcasts.Submit(ctx, f.actor(admin), coalition.BroadcastDraft{TextAR: "نص", Audience: governorate("jenin")})
	require.NoError(t, err)
	require.True(t, res.AwaitingApproval)

	// a fresh second account on another channel, linked to the admin's
	second := f.personOn(bot.WhatsApp, store.RoleCitizen, "jenin", "ar")
	code, err := f.co.People.LinkCode(ctx, f.actor(second))
	require.NoError(t, err)
	linked, err := f.co.People.Link(ctx, f.actor(admin), code, true)
	require.NoError(t, err)
	require.NotNil(t, linked.Contact)
	keep := linked.Contact

	by := f.actor(keep)
	require.Equal(t, store.RoleAdmin, by.Role)
	_, err = f.co.Broadcasts.Approve(ctx, by, res.Broadcast.ID)
	assert.ErrorIs(t, err, coalition.ErrOwnApproval, "whichever account merged into which")
	byWA, err := f.co.Members.Actor(ctx, keep.ID, bot.Address{Channel: bot.WhatsApp, ID: second.Addresses[0].ID})
	require.NoError(t, err)
	_, err = f.co.Broadcasts.Approve(ctx, byWA, res.Broadcast.ID)
	assert.ErrorIs(t, err, coalition.ErrOwnApproval, "from the other account too")

	// the audit log names the one identity that authored
	created := f.audit("broadcast_created")
	require.Len(t, created, 1)
	id, err := f.st.Identity(ctx, created[0].ActorID)
	require.NoError(t, err)
	assert.Equal(t, keep.ID, id)
	bc, err := f.st.Broadcast(ctx, res.Broadcast.ID)
	require.NoError(t, err)
	assert.Equal(t, keep.ID, bc.CreatedBy, "authorship follows the merge")
	// progress reports still find their author
	require.NoError(t, f.co.Broadcasts.ReportProgress(ctx, bc.ID))
}

// Rule 3: linking never passes a role silently.
func TestLinkingAPrivilegedAccountNeedsItsConfirmation(t *testing.T) {
	ctx := context.Background()
	t.Run("the privileged person types the code", func(t *testing.T) {
		f := newFixture(t)
		other := f.person(store.RoleAdmin)
		admin := f.person(store.RoleAdmin)
		citizen := f.personOn(bot.WhatsApp, store.RoleCitizen, "nablus", "ar")
		code, err := f.co.People.LinkCode(ctx, f.actor(citizen))
		require.NoError(t, err)
		_, err = f.co.People.Link(ctx, f.actor(admin), code, false)
		require.ErrorIs(t, err, coalition.ErrConfirm, "asked before anything changes")
		c, err := f.st.Contact(ctx, citizen.ID)
		require.NoError(t, err, "nothing merged yet")
		assert.Len(t, c.Addresses, 1)

		linked, err := f.co.People.Link(ctx, f.actor(admin), code, true)
		require.NoError(t, err, "the code still works once confirmed")
		assert.Len(t, linked.Contact.Addresses, 2)
		entries := f.audit("accounts_linked")
		require.Len(t, entries, 1)
		assert.Equal(t, "admin", entries[0].Details["role"])
		assert.Len(t, f.to(other, "accounts_linked"), 1, "the other admins are told")
	})
	t.Run("the privileged person owns the code", func(t *testing.T) {
		f := newFixture(t)
		other := f.person(store.RoleAdmin)
		coord := f.person(store.RoleCoordinator)
		citizen := f.personOn(bot.WhatsApp, store.RoleCitizen, "nablus", "ar")
		code, err := f.co.People.LinkCode(ctx, f.actor(coord))
		require.NoError(t, err)
		linked, err := f.co.People.Link(ctx, f.actor(citizen), code, false)
		require.NoError(t, err)
		require.True(t, linked.Waiting, "the coordinator must confirm")
		require.Nil(t, linked.Contact)
		asked := f.to(coord, "link_confirm")
		require.Len(t, asked, 1)
		c, err := f.co.Members.Actor(ctx, citizen.ID, citizen.Addresses[0])
		require.NoError(t, err)
		assert.Equal(t, store.RoleCitizen, c.Role, "no role passed yet")

		token := asked[0].Buttons[0][0].Payload[len("/link yes "):]
		_, err = f.co.People.ConfirmLink(ctx, f.actor(citizen), token, true)
		assert.ErrorIs(t, err, coalition.ErrNotAllowed, "only the owner confirms")
		merged, err := f.co.People.ConfirmLink(ctx, f.actor(coord), token, true)
		require.NoError(t, err)
		assert.Len(t, merged.Addresses, 2)
		assert.Len(t, f.audit("accounts_linked"), 1)
		assert.Len(t, f.to(other, "accounts_linked"), 1)
	})
	t.Run("two accounts on one channel", func(t *testing.T) {
		f := newFixture(t)
		a, b := f.person(store.RoleCitizen), f.person(store.RoleCitizen)
		code, err := f.co.People.LinkCode(ctx, f.actor(a))
		require.NoError(t, err)
		_, err = f.co.People.Link(ctx, f.actor(b), code, true)
		assert.ErrorIs(t, err, coalition.ErrSameChannel)
		assert.Empty(t, f.audit("accounts_linked"))
	})
}

// Rule 4: a dismissal or a /forget stops the person's pending sends; the
// admins are told and take each over or drop it.
func TestDismissalAndForgetStopPendingSends(t *testing.T) {
	for _, how := range []string{"dismissed", "forgotten"} {
		t.Run(how, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t)
			admin := f.person(store.RoleAdmin)
			coord := f.person(store.RoleCoordinator)
			f.crowd(4, "jenin")
			f.crowd(2, "tubas")
			big, err := f.co.Broadcasts.Submit(ctx, f.actor(coord), coalition.BroadcastDraft{TextAR: "نص", Audience: governorate("jenin")})
			require.NoError(t, err)
			require.True(t, big.AwaitingApproval)
			daily, err := f.co.Reminders.Create(ctx, f.actor(coord), coalition.ReminderDraft{TextAR: "يومي", Audience: governorate("tubas"),
				Schedule: &schedule.Schedule{Hour: 12}})
			require.NoError(t, err)

			switch how {
			case "dismissed":
				ch, err := f.co.Members.Dismiss(ctx, f.actor(admin), coord)
				require.NoError(t, err)
				assert.Equal(t, []uint64{big.Broadcast.ID}, ch.Stopped.Broadcasts)
				assert.Equal(t, []uint64{daily.Reminder.ID}, ch.Stopped.Reminders)
			case "forgotten":
				require.NoError(t, f.co.People.Forget(ctx, f.actor(coord)))
			}
			told := f.to(admin, "sends_suspended")
			require.Len(t, told, 1, "the admins hear what stopped")
			var payloads []string
			for _, row := range told[0].Buttons {
				for _, b := range row {
					payloads = append(payloads, b.Payload)
				}
			}
			assert.Contains(t, payloads, "/takeover reminder "+strconv.FormatUint(daily.Reminder.ID, 10))
			assert.Contains(t, payloads, "/drop broadcast "+strconv.FormatUint(big.Broadcast.ID, 10))

			// the reminder does not fire when due
			f.advance(31 * time.Minute)
			require.NoError(t, f.co.Reminders.FireDue(ctx))
			assert.Empty(t, f.ofKind(store.KindReminder))
			_, err = f.co.Broadcasts.Approve(ctx, f.actor(f.person(store.RoleAdmin)), big.Broadcast.ID)
			assert.Error(t, err, "a stopped broadcast is not approved as it was")

			// an admin takes the reminder over: it goes on, theirs now
			require.NoError(t, f.co.Members.TakeOver(ctx, f.actor(admin), "reminder", daily.Reminder.ID))
			require.NoError(t, f.co.Reminders.FireDue(ctx))
			assert.Len(t, f.ofKind(store.KindReminder), 2)
			r, err := f.st.Reminder(ctx, daily.Reminder.ID)
			require.NoError(t, err)
			assert.Equal(t, admin.ID, r.CreatedBy)
			// and drops the broadcast
			require.NoError(t, f.co.Members.Drop(ctx, f.actor(admin), "broadcast", big.Broadcast.ID))
			bc, err := f.st.Broadcast(ctx, big.Broadcast.ID)
			require.NoError(t, err)
			assert.Equal(t, store.BroadcastCancelled, bc.Status)
		})
	}
}

// Rule 5: an approval request shows everything that goes out, to every
// admin but the author, and the audit log keeps every text.
func TestApprovalRequestShowsEverything(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	arAdmin := f.personOn(bot.Telegram, store.RoleAdmin, "nablus", "ar")
	enAdmin := f.personOn(bot.Telegram, store.RoleAdmin, "nablus", "en")
	author := f.person(store.RoleAdmin)
	c := f.campaign("walk", store.KindPledge, 0)
	f.crowd(4, "jenin")
	res, err := f.co.Broadcasts.Submit(ctx, f.actor(author), coalition.BroadcastDraft{CampaignID: c.ID,
		TextAR: "تعالوا إلى المسيرة", TextEN: "the coalition has been dissolved", Audience: governorate("jenin"), Urgent: true})
	require.NoError(t, err)
	require.True(t, res.AwaitingApproval)

	for _, a := range []*store.Contact{arAdmin, enAdmin} {
		got := f.to(a, "broadcast_approval")
		require.Len(t, got, 1)
		text := got[0].Text
		assert.Contains(t, text, "تعالوا إلى المسيرة", "the Arabic text")
		assert.Contains(t, text, "the coalition has been dissolved", "and the English, whatever the approver reads")
		assert.Contains(t, text, c.Code, "the campaign")
		assert.Contains(t, text, f.cat.Text(a.Lang, "common.yes", nil), "urgent, said")
		assert.Contains(t, text, messages.FormatNumber(a.Lang, 4), "the count")
	}
	assert.Empty(t, f.to(author, "broadcast_approval"))
	entry := f.audit("broadcast_created")
	require.Len(t, entry, 1)
	assert.Equal(t, "تعالوا إلى المسيرة", entry[0].Details["text_ar"])
	assert.Equal(t, "the coalition has been dissolved", entry[0].Details["text_en"])
	assert.Equal(t, "true", entry[0].Details["urgent"])
}

// Pause and quiet hours hold what goes out, whoever sent it; replies pass.
func TestPauseHoldsEverySendButReplies(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, coalition.WithQuietHours(schedule.DefaultQuietHours()))
	admin := f.actor(f.person(store.RoleAdmin))
	other := f.person(store.RoleAdmin)
	require.NoError(t, f.co.Sending.Pause(ctx, admin))
	assert.Len(t, f.to(other, "sending_paused"), 1, "the other admins are told")
	now := f.clock()
	for _, e := range []store.OutboxEntry{
		{Kind: store.KindBroadcast, Bulk: true, Urgent: true},
		{Kind: store.KindReminder, Bulk: true},
		{Kind: "target_reached", Bulk: true},
	} {
		assert.True(t, f.co.Sending.Hold(now, &e).After(now), "%s held while paused", e.Kind)
	}
	reply := store.OutboxEntry{Kind: store.KindReply}
	assert.True(t, f.co.Sending.Hold(now, &reply).IsZero(), "a person talking to the bot is answered")
	// a notice to one person shares its lane with their answers: held, it
	// would hold back every answer queued after it
	for _, kind := range []store.MessageKind{"sending_paused", "broadcast_approval", "role_changed"} {
		notice := store.OutboxEntry{Kind: kind}
		assert.True(t, f.co.Sending.Hold(now, &notice).IsZero(), "%s goes while paused", kind)
	}
	p, err := f.co.Broadcasts.Preview(ctx, admin, coalition.BroadcastDraft{TextAR: "نص", Audience: everyone})
	require.NoError(t, err)
	require.NotNil(t, p.Paused, "the preview says sending is paused")
	assert.Equal(t, admin.Person, p.Paused.By)

	require.NoError(t, f.co.Sending.Resume(ctx, admin))
	assert.Len(t, f.to(other, "sending_resumed"), 1)
	// 23:00 Hebron is inside the default quiet hours: bulk waits, urgent goes
	night := time.Date(2026, 12, 7, 21, 0, 0, 0, time.UTC)
	bulk := store.OutboxEntry{Kind: store.KindBroadcast, Bulk: true}
	assert.True(t, time.Date(2026, 12, 8, 5, 0, 0, 0, time.UTC).Equal(f.co.Sending.Hold(night, &bulk)), "until 07:00 Hebron")
	urgent := store.OutboxEntry{Kind: store.KindBroadcast, Bulk: true, Urgent: true}
	assert.True(t, f.co.Sending.Hold(night, &urgent).IsZero())
}

// TestArabicTextNeedsArabicLetters: a broadcast's or a reminder's Arabic
// text with no Arabic letter in it (an emoji, a Latin text) is refused,
// as a campaign's title and a poll's question are: the Arabic readers
// would get nothing they can read.
func TestArabicTextNeedsArabicLetters(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	coord := f.person(store.RoleCoordinator)
	f.crowd(3, "jenin")
	for _, text := range []string{"😀😀", "Come on Friday"} {
		_, err := f.co.Broadcasts.Submit(ctx, f.actor(coord), coalition.BroadcastDraft{TextAR: text, TextEN: "Come on Friday", Audience: governorate("jenin")})
		var inv *coalition.InvalidError
		require.ErrorAs(t, err, &inv, "broadcast %q", text)
		assert.Equal(t, "text_ar", inv.Field)
		assert.Equal(t, messages.ErrNeedArabic, inv.Reason)
		_, err = f.co.Reminders.Create(ctx, f.actor(coord), coalition.ReminderDraft{TextAR: text, Audience: governorate("jenin"), At: f.clock().Add(time.Hour)})
		require.ErrorAs(t, err, &inv, "reminder %q", text)
		assert.Equal(t, messages.ErrNeedArabic, inv.Reason)
	}
	bs, err := f.st.Broadcasts(ctx)
	require.NoError(t, err)
	assert.Empty(t, bs, "nothing was stored")
	res, err := f.co.Broadcasts.Submit(ctx, f.actor(coord), coalition.BroadcastDraft{TextAR: "تعالوا يوم الجمعة 😀", Audience: governorate("jenin")})
	require.NoError(t, err, "an Arabic text with an emoji is a message")
	assert.NotNil(t, res.Broadcast)
}

// Rule 1: an approval covers the count its request showed, and a tenth
// more; an audience grown past that by the time of the approval is not
// sent to on it, and the admins are asked again with the new count.
func TestBroadcastWhoseAudienceGrewBeforeItsApprovalIsAskedAgain(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	coord := f.person(store.RoleCoordinator)
	admin := f.person(store.RoleAdmin)
	f.crowd(4, "jenin")
	res, err := f.co.Broadcasts.Submit(ctx, f.actor(coord), coalition.BroadcastDraft{TextAR: "نص", Audience: governorate("jenin")})
	require.NoError(t, err)
	require.True(t, res.AwaitingApproval)
	require.Len(t, f.to(admin, "broadcast_approval"), 1)

	f.crowd(6, "jenin") // 10 now: past the 4 (and 4.4) the request showed
	_, err = f.co.Broadcasts.Approve(ctx, f.actor(admin), res.Broadcast.ID)
	assert.ErrorIs(t, err, coalition.ErrAudienceGrew)
	assert.Empty(t, f.bulkOf(res.Broadcast.ID), "nothing sent on an approval of fewer people")
	bc, err := f.st.Broadcast(ctx, res.Broadcast.ID)
	require.NoError(t, err)
	assert.Equal(t, store.BroadcastAwaitingApproval, bc.Status, "it still waits")
	assert.Equal(t, 10, bc.Recipients, "for the count it reaches now")
	asked := f.to(admin, "broadcast_approval")
	require.Len(t, asked, 2, "the admins are asked again")
	assert.Contains(t, asked[1].Text, "١٠")

	bc, err = f.co.Broadcasts.Approve(ctx, f.actor(admin), res.Broadcast.ID)
	require.NoError(t, err, "the new count approved")
	assert.Equal(t, admin.ID, bc.ApprovedBy)
	assert.Len(t, f.bulkOf(res.Broadcast.ID), 10)
}

// Rule 1, split audiences across /link: the sends an account made before
// it was linked count with the sends of the person it became.
func TestSplitAudiencesCountTogetherAcrossALink(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.person(store.RoleAdmin)
	coord := f.person(store.RoleCoordinator)
	f.crowd(2, "jenin")
	f.crowd(2, "tubas")
	first, err := f.co.Broadcasts.Submit(ctx, f.actor(coord), coalition.BroadcastDraft{TextAR: "جنين", Audience: governorate("jenin")})
	require.NoError(t, err)
	require.False(t, first.AwaitingApproval, "2 alone is under the threshold")

	// the coordinator types the code of a fresh WhatsApp account, which is kept
	second := f.personOn(bot.WhatsApp, store.RoleCitizen, "", "ar")
	code, err := f.co.People.LinkCode(ctx, f.actor(second))
	require.NoError(t, err)
	linked, err := f.co.People.Link(ctx, f.actor(coord), code, true)
	require.NoError(t, err)
	require.NotNil(t, linked.Contact)
	require.Equal(t, second.ID, linked.Contact.ID, "the code's owner is the one kept")

	by := f.actor(linked.Contact)
	require.Equal(t, store.RoleCoordinator, by.Role)
	p, err := f.co.Broadcasts.Preview(ctx, by, coalition.BroadcastDraft{TextAR: "طوباس", Audience: governorate("tubas")})
	require.NoError(t, err)
	assert.Equal(t, 2, p.RecentSends, "the send made before the link counts")
	res, err := f.co.Broadcasts.Submit(ctx, by, coalition.BroadcastDraft{TextAR: "طوباس", Audience: governorate("tubas")})
	require.NoError(t, err)
	assert.True(t, res.AwaitingApproval, "2 + 2 within a day is over 3, whichever account sent them")
	assert.Empty(t, f.bulkOf(res.Broadcast.ID))
}

// A second /pause while paused changes nothing: the pause keeps who
// paused first and when, and no one is told or audited again.
func TestPauseWhilePausedChangesNothing(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	first := f.actor(f.person(store.RoleAdmin))
	second := f.person(store.RoleAdmin)
	third := f.person(store.RoleAdmin)
	require.NoError(t, f.co.Sending.Pause(ctx, first))
	f.advance(time.Hour)
	err := f.co.Sending.Pause(ctx, f.actor(second))
	assert.ErrorIs(t, err, coalition.ErrAlreadyPaused)
	p, err := f.co.Sending.Paused(ctx)
	require.NoError(t, err)
	require.NotNil(t, p)
	assert.Equal(t, first.Person, p.By, "still the first admin's pause")
	assert.True(t, testNow.Equal(p.At), "since the first pause")
	assert.Len(t, f.to(third, "sending_paused"), 1, "told once")
	assert.Len(t, f.audit("sending_paused"), 1, "audited once")
	require.NoError(t, f.co.Sending.Resume(ctx, f.actor(second)))
	p, err = f.co.Sending.Paused(ctx)
	require.NoError(t, err)
	assert.Nil(t, p)
}
