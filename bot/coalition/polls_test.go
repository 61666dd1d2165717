package coalition_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/coalition"
	"mobilise/bot/schedule"
	"mobilise/store"
)

// yesNoMaybe is a poll draft to audience.
func yesNoMaybe(aud store.Audience) coalition.PollDraft {
	return coalition.PollDraft{
		QuestionAR: "هل تشارك في المسيرة؟", QuestionEN: "Will you join the march?",
		Options:  []store.PollOption{{AR: "نعم", EN: "Yes"}, {AR: "لا", EN: "No"}, {AR: "ربما", EN: "Maybe"}},
		Audience: aud,
	}
}

// pollOf submits a poll to aud as a new coordinator, under the threshold.
func (f *fixture) poll(d coalition.PollDraft) coalition.PollSubmitted {
	f.t.Helper()
	res, err := f.co.Polls.Submit(context.Background(), f.actor(f.person(store.RoleCoordinator)), d)
	require.NoError(f.t, err)
	return res
}

// Rule 1 for polls: a poll is a bulk send. Over the threshold, with the
// author's other bulk sends of the day, it waits for a second admin, who
// sees every option; once approved it is queued, each copy with the
// options as buttons and the verification line at its end.
func TestPollOverTheThresholdWaitsForASecondAdmin(t *testing.T) {
	for _, role := range []store.Role{store.RoleCoordinator, store.RoleAdmin} {
		t.Run(string(role), func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t)
			author := f.person(role)
			admin := f.person(store.RoleAdmin)
			f.crowd(4, "jenin")

			res, err := f.co.Polls.Submit(ctx, f.actor(author), yesNoMaybe(governorate("jenin")))
			require.NoError(t, err)
			require.True(t, res.AwaitingApproval, "a poll to 4 waits")
			assert.Equal(t, res.Broadcast.ID, res.Poll.BroadcastID)
			assert.Empty(t, f.bulkOf(res.Broadcast.ID), "nothing queued before the approval")
			asks := f.to(admin, "broadcast_approval")
			require.Len(t, asks, 1)
			for _, o := range []string{"نعم", "لا", "ربما"} {
				assert.Contains(t, asks[0].Text, o, "the approver sees every option")
			}
			assert.Empty(t, f.to(author, "broadcast_approval"), "the author is not asked")

			_, err = f.co.Broadcasts.Approve(ctx, f.actor(author), res.Broadcast.ID)
			assert.Error(t, err, "the author does not approve their own poll")
			_, err = f.co.Broadcasts.Approve(ctx, f.actor(admin), res.Broadcast.ID)
			require.NoError(t, err)
			copies := f.bulkOf(res.Broadcast.ID)
			require.Len(t, copies, 4)
			for _, e := range copies {
				require.Len(t, e.Buttons, 3, "one button per option")
				assert.Equal(t, "/vote "+strconv.FormatUint(res.Poll.ID, 10)+" 2", e.Buttons[1][0].Payload)
				assert.Contains(t, e.Text, "هل تشارك في المسيرة؟")
				assert.Contains(t, e.Text, "رمز التحقّق", "the copy ends with its verification code")
				_, ok := coalition.FindCode(e.Text)
				assert.True(t, ok)
			}
		})
	}
}

// Rule 1, split audiences: a poll and a broadcast of one author within a
// day count together.
func TestPollsCountInTheDaysLedger(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.person(store.RoleAdmin)
	author := f.actor(f.person(store.RoleCoordinator))
	f.crowd(2, "jenin")
	f.crowd(2, "tubas")
	first, err := f.co.Polls.Submit(ctx, author, yesNoMaybe(governorate("jenin")))
	require.NoError(t, err)
	require.False(t, first.AwaitingApproval, "2 alone is under the threshold")
	assert.Len(t, f.bulkOf(first.Broadcast.ID), 2, "queued at once")
	second, err := f.co.Broadcasts.Submit(ctx, author, coalition.BroadcastDraft{TextAR: "طوباس", Audience: governorate("tubas")})
	require.NoError(t, err)
	assert.True(t, second.AwaitingApproval, "the poll's 2 count with the broadcast's 2")
}

// Rule 3 for polls: a pause holds a poll's copies, and quiet hours hold
// them unless the poll is urgent, as for any broadcast.
func TestPauseAndQuietHoursHoldAPoll(t *testing.T) {
	ctx := context.Background()
	quiet, err := schedule.ParseQuietHours("09:00-12:00") // testNow is 11:30 in Hebron
	require.NoError(t, err)
	f := newFixture(t, coalition.WithQuietHours(quiet))
	admin := f.actor(f.person(store.RoleAdmin))
	f.crowd(2, "salfit")
	calm := f.poll(yesNoMaybe(governorate("salfit")))
	urgentDraft := yesNoMaybe(governorate("salfit"))
	urgentDraft.Urgent = true
	urgent := f.poll(urgentDraft)
	now := f.clock()
	for _, e := range f.bulkOf(calm.Broadcast.ID) {
		assert.True(t, f.co.Sending.Hold(now, &e).After(now), "a poll waits out quiet hours")
	}
	for _, e := range f.bulkOf(urgent.Broadcast.ID) {
		assert.True(t, f.co.Sending.Hold(now, &e).IsZero(), "an urgent poll goes through them")
	}
	require.NoError(t, f.co.Sending.Pause(ctx, admin))
	for _, e := range f.bulkOf(urgent.Broadcast.ID) {
		assert.True(t, f.co.Sending.Hold(now, &e).After(now), "a pause holds even an urgent poll")
	}
}

// Rule: one answer per person, which they change until the poll closes;
// only people the poll was sent to answer; an unknown option is refused.
func TestOneAnswerPerPersonUntilThePollCloses(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	people := f.crowd(3, "bethlehem")
	d := yesNoMaybe(governorate("bethlehem"))
	d.ClosesAt = f.clock().Add(24 * time.Hour)
	res := f.poll(d)
	id := res.Poll.ID
	a, b := f.actor(people[0]), f.actor(people[1])

	got, err := f.co.Polls.Answer(ctx, a, id, 0)
	require.NoError(t, err)
	assert.Equal(t, -1, got.Previous)
	got, err = f.co.Polls.Answer(ctx, a, id, 2)
	require.NoError(t, err)
	assert.Equal(t, 0, got.Previous, "a changed answer")
	assert.Equal(t, []int{0, 0, 1}, got.Counts.Options, "one answer per person, the latest")
	_, err = f.co.Polls.Answer(ctx, b, id, 0)
	require.NoError(t, err)

	var inv *coalition.InvalidError
	_, err = f.co.Polls.Answer(ctx, b, id, 3)
	assert.True(t, errors.As(err, &inv), "no fourth option: %v", err)
	_, err = f.co.Polls.Answer(ctx, b, 999, 0)
	assert.ErrorIs(t, err, coalition.ErrNotFound)
	stranger := f.actor(f.personOn(bot.Telegram, store.RoleCitizen, "gaza", "ar"))
	_, err = f.co.Polls.Answer(ctx, stranger, id, 0)
	assert.ErrorIs(t, err, coalition.ErrNotAsked, "only those the poll was sent to answer, whatever a crafted button says")
	coordinatorNotAsked := f.actor(f.person(store.RoleCoordinator))
	_, err = f.co.Polls.Answer(ctx, coordinatorNotAsked, id, 0)
	assert.ErrorIs(t, err, coalition.ErrNotAsked, "a role does not answer for others")

	f.advance(25 * time.Hour)
	_, err = f.co.Polls.Answer(ctx, a, id, 1)
	assert.ErrorIs(t, err, coalition.ErrPollClosed, "past its closing time")
	n, err := f.co.Polls.Counts(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, store.PollCounts{Asked: 3, Options: []int{1, 0, 1}}, n, "a refused answer changes nothing")
}

func TestClosingAPoll(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	people := f.crowd(2, "tubas")
	author := f.person(store.RoleCoordinator)
	res, err := f.co.Polls.Submit(ctx, f.actor(author), yesNoMaybe(governorate("tubas")))
	require.NoError(t, err)
	other := f.actor(f.person(store.RoleCoordinator))
	_, err = f.co.Polls.Close(ctx, other, res.Poll.ID)
	assert.ErrorIs(t, err, coalition.ErrNotAllowed, "a coordinator closes their own")
	_, err = f.co.Polls.Close(ctx, f.actor(people[0]), res.Poll.ID)
	assert.ErrorIs(t, err, coalition.ErrNotAllowed)
	p, err := f.co.Polls.Close(ctx, f.actor(f.person(store.RoleAdmin)), res.Poll.ID)
	require.NoError(t, err, "an admin closes anyone's")
	assert.True(t, p.Closed)
	_, err = f.co.Polls.Close(ctx, f.actor(author), res.Poll.ID)
	assert.ErrorIs(t, err, coalition.ErrDecided, "closed once")
	_, err = f.co.Polls.Answer(ctx, f.actor(people[0]), res.Poll.ID, 0)
	assert.ErrorIs(t, err, coalition.ErrPollClosed)
	assert.Len(t, f.audit("poll_closed"), 1)
}

// Results are live, by governorate, language, channel and campaign.
func TestPollResultsBreakDown(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, coalition.WithApprovalThreshold(0))
	c := f.campaign("walk", store.KindPledge, 0)
	nablus := f.crowd(3, "nablus")
	jenin := f.personOn(bot.WhatsApp, store.RoleCitizen, "jenin", "en")
	_, err := f.co.Campaigns.Pledge(ctx, f.actor(nablus[0]), c.Code)
	require.NoError(t, err)
	res := f.poll(yesNoMaybe(everyone))
	id := res.Poll.ID
	for i, p := range nablus {
		_, err := f.co.Polls.Answer(ctx, f.actor(p), id, i%2)
		require.NoError(t, err)
	}
	_, err = f.co.Polls.Answer(ctx, f.actor(jenin), id, 1)
	require.NoError(t, err)

	coord := f.actor(f.person(store.RoleCoordinator))
	r, err := f.co.Polls.Results(ctx, coord, id)
	require.NoError(t, err)
	assert.Equal(t, []int{2, 2, 0}, r.Counts.Options)
	assert.Equal(t, 50, r.Percent(0))
	assert.Equal(t, 0, r.Percent(2))
	assert.Equal(t, store.Tally{"nablus": {2, 1, 0}, "jenin": {0, 1, 0}}, r.ByGovernorate)
	assert.Equal(t, store.Tally{"ar": {2, 1, 0}, "en": {0, 1, 0}}, r.ByLang)
	assert.Equal(t, store.Tally{"telegram": {2, 1, 0}, "whatsapp": {0, 1, 0}}, r.ByChannel)
	assert.Equal(t, []int{1, 0, 0}, r.ByCampaign[strconv.FormatUint(c.ID, 10)], "the pledger's answer counts under the campaign")
	assert.Equal(t, c.Code, r.Campaigns[c.ID].Code)
	require.NotNil(t, r.Broadcast)
	assert.Equal(t, res.Broadcast.ID, r.Broadcast.ID)
	assert.Equal(t, 33, coalition.Percent([]int{1, 2}, 0), "rounded to the nearest percent")
	assert.Equal(t, 67, coalition.Percent([]int{1, 2}, 1))
}

// The people who gave an answer are an audience for a broadcast and a
// reminder, and it follows a changed answer.
func TestAnswerersAreAnAudience(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	people := f.crowd(3, "qalqilya")
	res := f.poll(yesNoMaybe(governorate("qalqilya")))
	for i, p := range people {
		_, err := f.co.Polls.Answer(ctx, f.actor(p), res.Poll.ID, min(i, 1))
		require.NoError(t, err)
	}
	// the last changes their mind to the first answer
	_, err := f.co.Polls.Answer(ctx, f.actor(people[2]), res.Poll.ID, 0)
	require.NoError(t, err)
	coord := f.actor(f.person(store.RoleCoordinator))
	yes := coalition.AnswerAudience(res.Poll, 0)
	follow, err := f.co.Broadcasts.Submit(ctx, coord, coalition.BroadcastDraft{TextAR: "شكرًا، نلقاكم هناك", Audience: yes})
	require.NoError(t, err)
	var got []uint64
	for _, e := range f.bulkOf(follow.Broadcast.ID) {
		got = append(got, e.ContactID)
	}
	assert.ElementsMatch(t, []uint64{people[0].ID, people[2].ID}, got)

	r, err := f.co.Reminders.Create(ctx, coord, coalition.ReminderDraft{TextAR: "تذكير", Audience: coalition.AnswerAudience(res.Poll, 1), At: f.clock().Add(time.Hour)})
	require.NoError(t, err)
	assert.Equal(t, 1, r.Recipients, "a reminder to those who said no")
	_, err = f.co.Broadcasts.Submit(ctx, coord, coalition.BroadcastDraft{TextAR: "نص", Audience: coalition.AnswerAudience(res.Poll, 2)})
	assert.ErrorIs(t, err, coalition.ErrNobody, "nobody said maybe")
}

func TestPollDraftsAreChecked(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	coord := f.actor(f.person(store.RoleCoordinator))
	f.crowd(1, "gaza")
	base := yesNoMaybe(governorate("gaza"))
	cases := map[string]func(d *coalition.PollDraft){
		"no question":    func(d *coalition.PollDraft) { d.QuestionAR = " " },
		"no Arabic":      func(d *coalition.PollDraft) { d.QuestionAR = "Will you come?" },
		"one option":     func(d *coalition.PollDraft) { d.Options = d.Options[:1] },
		"eleven options": func(d *coalition.PollDraft) { d.Options = elevenOptions() },
		"the same twice": func(d *coalition.PollDraft) { d.Options[2].AR = "نَعَم" },
		"an option too long": func(d *coalition.PollDraft) {
			d.Options[0].AR = strings.Repeat("ن", coalition.MaxOption+1)
		},
		"an option without Arabic": func(d *coalition.PollDraft) { d.Options[1].AR = "" },
		"closing in the past":      func(d *coalition.PollDraft) { d.ClosesAt = f.clock().Add(-time.Minute) },
		"no audience":              func(d *coalition.PollDraft) { d.Audience = store.Audience{} },
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			d := base
			d.Options = append([]store.PollOption(nil), base.Options...)
			change(&d)
			var inv *coalition.InvalidError
			_, err := f.co.Polls.Submit(ctx, coord, d)
			require.True(t, errors.As(err, &inv), "%v", err)
			_, _, err = f.co.Polls.Preview(ctx, coord, d)
			require.True(t, errors.As(err, &inv), "the preview refuses it too: %v", err)
		})
	}
	polls, err := f.st.Polls(ctx)
	require.NoError(t, err)
	assert.Empty(t, polls, "a refused draft stores nothing")
	bs, err := f.st.Broadcasts(ctx)
	require.NoError(t, err)
	assert.Empty(t, bs)
}

func elevenOptions() []store.PollOption {
	var out []store.PollOption
	for i := range 11 {
		out = append(out, store.PollOption{AR: "خيار " + strconv.Itoa(i)})
	}
	return out
}

// On WhatsApp a poll has no buttons: its text numbers the options, after
// the greeting by name; the English reader gets the English texts.
func TestPollCopiesPerChannelAndLanguage(t *testing.T) {
	f := newFixture(t)
	wa := f.personOn(bot.WhatsApp, store.RoleCitizen, "hebron", "en")
	tg := f.personOn(bot.Telegram, store.RoleCitizen, "hebron", "ar")
	res := f.poll(yesNoMaybe(governorate("hebron")))
	copies := map[uint64]store.OutboxEntry{}
	for _, e := range f.bulkOf(res.Broadcast.ID) {
		copies[e.ContactID] = e
	}
	w := copies[wa.ID]
	assert.Empty(t, w.Buttons)
	assert.True(t, strings.HasPrefix(w.Text, "Hello "+wa.Name), w.Text)
	assert.Contains(t, w.Text, "1. Yes\n2. No\n3. Maybe")
	assert.Contains(t, w.Text, "Will you join the march?")
	assert.Contains(t, w.Text, "Verification code")
	g := copies[tg.ID]
	require.Len(t, g.Buttons, 3)
	assert.Equal(t, "نعم", g.Buttons[0][0].Text)
	assert.Contains(t, g.Text, "١. نعم")
}

// The follow-through: after an event, the people signed up are asked once
// whether they came; no second person is needed, as for the event's
// reminders, but a pause holds it; a campaign can switch it off; the
// answers are the campaign's attendance.
func TestFollowThroughAfterAnEvent(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	c := f.campaign("vigil", store.KindEvent, 0)
	people := f.crowd(5, "ramallah") // over the threshold of 3
	for _, p := range people {
		_, err := f.co.Campaigns.SignUp(ctx, f.actor(p), c.Code)
		require.NoError(t, err)
	}
	coord := f.actor(f.person(store.RoleCoordinator))
	before, err := f.co.Polls.Attendance(ctx, coord, c)
	require.NoError(t, err)
	assert.True(t, before.On)
	assert.Nil(t, before.Poll)
	assert.Equal(t, c.EventAt.Add(coalition.DefaultFollowUpDelay), before.At)

	require.NoError(t, f.co.Polls.RunFollowUps(ctx))
	assert.Empty(t, f.ofKind("follow_up"), "not before the event")

	f.advance(72*time.Hour + coalition.DefaultFollowUpDelay)
	require.NoError(t, f.co.Polls.RunFollowUps(ctx))
	require.NoError(t, f.co.Polls.RunFollowUps(ctx))
	asked := f.ofKind("follow_up")
	require.Len(t, asked, 5, "each person asked once, without waiting for an approval")
	for _, e := range asked {
		assert.True(t, e.Bulk)
		assert.Contains(t, e.Text, "حملة vigil")
		assert.Len(t, e.Buttons, 2)
		_, ok := coalition.FindCode(e.Text)
		assert.True(t, ok, "it carries a verification code")
	}
	admin := f.actor(f.person(store.RoleAdmin))
	require.NoError(t, f.co.Sending.Pause(ctx, admin))
	assert.True(t, f.co.Sending.Hold(f.clock(), &asked[0]).After(f.clock()), "a pause holds it")
	require.NoError(t, f.co.Sending.Resume(ctx, admin))

	a, err := f.co.Polls.Attendance(ctx, coord, c)
	require.NoError(t, err)
	require.NotNil(t, a.Poll)
	for i, p := range people[:3] {
		_, err := f.co.Polls.Answer(ctx, f.actor(p), a.Poll.ID, min(i, 1))
		require.NoError(t, err)
	}
	a, err = f.co.Polls.Attendance(ctx, coord, c)
	require.NoError(t, err)
	assert.Equal(t, store.PollCounts{Asked: 5, Options: []int{1, 2}}, a.Results.Counts)
	_, err = f.co.Polls.SetFollowUp(ctx, coord, c.Code, false)
	assert.ErrorIs(t, err, coalition.ErrDecided, "asked already")
	_, err = f.co.Polls.Attendance(ctx, f.actor(people[0]), c)
	assert.ErrorIs(t, err, coalition.ErrNotAllowed)
}

func TestFollowThroughSwitchedOffOrTooLate(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	off := f.campaign("quiet", store.KindEvent, 0)
	late := f.campaign("late", store.KindEvent, 0)
	pledge := f.campaign("pledge", store.KindPledge, 0)
	people := f.crowd(2, "jericho")
	for _, p := range people {
		for _, c := range []*store.Campaign{off, late} {
			_, err := f.co.Campaigns.SignUp(ctx, f.actor(p), c.Code)
			require.NoError(t, err)
		}
	}
	coord := f.actor(f.person(store.RoleCoordinator))
	_, err := f.co.Polls.SetFollowUp(ctx, coord, off.Code, false)
	require.NoError(t, err)
	_, err = f.co.Polls.SetFollowUp(ctx, coord, pledge.Code, false)
	assert.ErrorIs(t, err, coalition.ErrNoEvent)
	_, err = f.co.Polls.SetFollowUp(ctx, f.actor(people[0]), off.Code, true)
	assert.ErrorIs(t, err, coalition.ErrNotAllowed)
	st, err := f.co.Polls.Attendance(ctx, coord, off)
	require.NoError(t, err)
	assert.False(t, st.On)

	// the bot was down for three days after the events
	f.advance(72*time.Hour + coalition.DefaultFollowUpDelay + 50*time.Hour)
	require.NoError(t, f.co.Polls.RunFollowUps(ctx))
	assert.Empty(t, f.ofKind("follow_up"), "switched off, or too long ago")
	assert.Len(t, f.audit("follow_up_set"), 1)
}

// A person's answers are theirs: /mydata lists them, /forget leaves only
// an anonymous count, and linked accounts answer as one person.
func TestAnswersFollowThePerson(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	tg := f.personOn(bot.Telegram, store.RoleCitizen, "gaza", "ar")
	wa := f.personOn(bot.WhatsApp, store.RoleCitizen, "gaza", "ar")
	gone := f.personOn(bot.Telegram, store.RoleCitizen, "gaza", "ar")
	res := f.poll(yesNoMaybe(governorate("gaza")))
	id := res.Poll.ID
	for _, p := range []*store.Contact{tg, wa, gone} {
		_, err := f.co.Polls.Answer(ctx, f.actor(p), id, 1)
		require.NoError(t, err)
	}
	d, err := f.co.People.MyData(ctx, f.actor(tg))
	require.NoError(t, err)
	require.Len(t, d.Answers, 1)
	assert.Equal(t, 1, d.Answers[0].Answer.Option)
	assert.Equal(t, id, d.Answers[0].Poll.ID)

	require.NoError(t, f.co.People.Forget(ctx, f.actor(gone)))
	code, err := f.co.People.LinkCode(ctx, f.actor(tg))
	require.NoError(t, err)
	_, err = f.co.People.Link(ctx, f.actor(wa), code, false)
	require.NoError(t, err)
	n, err := f.co.Polls.Counts(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, []int{0, 2, 0}, n.Options, "the forgotten answer stays counted; the linked accounts are one answer")
	merged := f.actor(tg)
	got, err := f.co.Polls.Answer(ctx, merged, id, 0)
	require.NoError(t, err, "the linked person answers from either account")
	assert.Equal(t, 1, got.Previous)
	require.NoError(t, f.st.Check())
}

// Pending is the poll a person's typed words answer: the newest open one
// sent to them and not answered yet.
func TestPendingPoll(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := f.personOn(bot.Telegram, store.RoleCitizen, "tulkarm", "ar")
	by := f.actor(p)
	got, _, err := f.co.Polls.Pending(ctx, by)
	require.NoError(t, err)
	assert.Nil(t, got)
	first := f.poll(yesNoMaybe(governorate("tulkarm")))
	f.advance(time.Minute)
	second := f.poll(yesNoMaybe(governorate("tulkarm")))
	got, at, err := f.co.Polls.Pending(ctx, by)
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Equal(t, second.Poll.ID, got.ID, "the newest first")
	assert.Equal(t, f.clock().Unix(), at.Unix(), "asked now: no quiet hours in the fixture")
	_, err = f.co.Polls.Answer(ctx, by, second.Poll.ID, 0)
	require.NoError(t, err)
	got, _, err = f.co.Polls.Pending(ctx, by)
	require.NoError(t, err)
	assert.Equal(t, first.Poll.ID, got.ID, "then the one still unanswered")
	_, err = f.co.Polls.Close(ctx, f.actor(f.person(store.RoleAdmin)), first.Poll.ID)
	require.NoError(t, err)
	got, _, err = f.co.Polls.Pending(ctx, by)
	require.NoError(t, err)
	assert.Nil(t, got, "a closed poll takes no typed answer")
}

// TestEveryPollOperationChecksTheRole is TestEveryOperationChecksTheRole
// for polls, verification and posters.
func TestEveryPollOperationChecksTheRole(t *testing.T) {
	ctx := context.Background()
	cases := []roleCase{
		{"preview a poll", store.RoleCoordinator, func(f *fixture, by coalition.Actor) error {
			_, _, err := f.co.Polls.Preview(ctx, by, yesNoMaybe(everyone))
			return err
		}},
		{"put a poll", store.RoleCoordinator, func(f *fixture, by coalition.Actor) error {
			f.crowd(1, "deir_al_balah")
			_, err := f.co.Polls.Submit(ctx, by, yesNoMaybe(governorate("deir_al_balah")))
			return err
		}},
		{"answer a poll sent to one", store.RoleCitizen, func(f *fixture, by coalition.Actor) error {
			res := f.poll(yesNoMaybe(everyone))
			_, err := f.co.Polls.Answer(ctx, by, res.Poll.ID, 1)
			return err
		}},
		{"read a poll's results", store.RoleCoordinator, func(f *fixture, by coalition.Actor) error {
			f.crowd(1, "rafah")
			_, err := f.co.Polls.Results(ctx, by, f.poll(yesNoMaybe(governorate("rafah"))).Poll.ID)
			return err
		}},
		{"list polls", store.RoleCoordinator, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Polls.Recent(ctx, by, 5)
			return err
		}},
		{"close one's own poll", store.RoleCoordinator, func(f *fixture, by coalition.Actor) error {
			author := by
			if !by.Role.AtLeast(store.RoleCoordinator) {
				author = f.actor(f.person(store.RoleCoordinator))
			}
			f.crowd(1, "rafah")
			res, err := f.co.Polls.Submit(ctx, author, yesNoMaybe(governorate("rafah")))
			require.NoError(f.t, err)
			_, err = f.co.Polls.Close(ctx, by, res.Poll.ID)
			return err
		}},
		{"switch the follow-through", store.RoleCoordinator, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Polls.SetFollowUp(ctx, by, f.campaign("c"+f.code(), store.KindEvent, 0).Code, false)
			return err
		}},
		{"read the attendance", store.RoleCoordinator, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Polls.Attendance(ctx, by, f.campaign("c"+f.code(), store.KindEvent, 0))
			return err
		}},
		{"verify a code", store.RoleCitizen, func(f *fixture, by coalition.Actor) error {
			f.crowd(1, "bethlehem")
			res := f.broadcast(governorate("bethlehem"))
			_, err := f.co.Verify.Check(ctx, by, f.codeOf(res.Broadcast.ID))
			return err
		}},
		{"verify a message", store.RoleCitizen, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Verify.Message(ctx, by, "رسالة بلا رمز", nil)
			return err
		}},
		{"preview a warning of a fake", store.RoleCoordinator, func(f *fixture, by coalition.Actor) error {
			_, _, err := f.co.Verify.PreviewWarning(ctx, by, coalition.FakeWarning{Quote: "تبرّعوا لهذا الحساب", Audience: everyone})
			return err
		}},
		{"warn of a fake", store.RoleCoordinator, func(f *fixture, by coalition.Actor) error {
			f.crowd(1, "khan_yunis")
			_, err := f.co.Verify.Warn(ctx, by, coalition.FakeWarning{Quote: "تبرّعوا لهذا الحساب", Audience: governorate("khan_yunis")})
			return err
		}},
		{"ask for a poster", store.RoleCoordinator, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Posters.Request(ctx, by, f.campaign("c"+f.code(), store.KindPledge, 0).Code)
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// no second person here: every send goes at once, so whoever it reaches was asked
			f := newFixture(t, coalition.WithPosters(t.TempDir(), "ائتلاف", "Coalition"), coalition.WithApprovalThreshold(0))
			for _, role := range roles {
				by := f.actor(f.person(role))
				err := tc.do(f, by)
				if role.AtLeast(tc.min) {
					assert.NoError(t, err, "as %s", role)
					continue
				}
				assert.ErrorIs(t, err, coalition.ErrNotAllowed, "as %s", role)
			}
		})
	}
}

// TestRefusedPollOperationsChangeNothing: a citizen's poll, warning or
// close leaves no poll, broadcast, audit entry or message.
func TestRefusedPollOperationsChangeNothing(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	citizen := f.actor(f.person(store.RoleCitizen))
	f.crowd(5, "nablus")
	res := f.poll(yesNoMaybe(governorate("nablus")))
	auditBefore, queuedBefore := f.auditCount(), len(f.queued())
	_, err := f.co.Polls.Submit(ctx, citizen, yesNoMaybe(everyone))
	require.ErrorIs(t, err, coalition.ErrNotAllowed)
	_, err = f.co.Verify.Warn(ctx, citizen, coalition.FakeWarning{Quote: "مزيّف", Audience: everyone})
	require.ErrorIs(t, err, coalition.ErrNotAllowed)
	_, err = f.co.Polls.Close(ctx, citizen, res.Poll.ID)
	require.ErrorIs(t, err, coalition.ErrNotAllowed)
	assert.Equal(t, auditBefore, f.auditCount())
	assert.Equal(t, queuedBefore, len(f.queued()))
	polls, err := f.st.Polls(ctx)
	require.NoError(t, err)
	assert.Len(t, polls, 1)
	p, err := f.co.Polls.Get(ctx, res.Poll.ID)
	require.NoError(t, err)
	assert.False(t, p.Closed)
}
