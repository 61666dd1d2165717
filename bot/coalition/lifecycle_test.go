package coalition_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot/coalition"
	"mobilise/bot/schedule"
	"mobilise/messages"
	"mobilise/store"
)

func TestCampaignStatesAndWaitingForTheStart(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	coord := f.actor(f.person(store.RoleCoordinator))
	start := f.clock().Add(48 * time.Hour)
	c, err := f.co.Campaigns.Create(ctx, coord, coalition.Draft{Code: "later", TitleAR: "لاحقًا", CallAR: "انضمّوا",
		Kind: store.KindPledge, StartAt: start, EndAt: start.Add(7 * 24 * time.Hour)})
	require.NoError(t, err)
	assert.Equal(t, coalition.StateScheduled, f.co.Campaigns.State(c))
	_, err = f.co.Campaigns.Pledge(ctx, f.actor(f.person(store.RoleCitizen)), c.Code)
	assert.ErrorIs(t, err, coalition.ErrCampaignClosed, "no pledges before the start")

	waiting, gone, stopped := f.person(store.RoleCitizen), f.person(store.RoleCitizen), f.person(store.RoleCitizen)
	for _, p := range []*store.Contact{waiting, gone, stopped} {
		_, already, err := f.co.Campaigns.Watch(ctx, f.actor(p), c.Code)
		require.NoError(t, err)
		assert.False(t, already)
	}
	_, already, err := f.co.Campaigns.Watch(ctx, f.actor(waiting), c.Code)
	require.NoError(t, err)
	assert.True(t, already, "asking twice is one request")
	require.NoError(t, f.co.People.Forget(ctx, f.actor(gone)))
	_, err = f.co.People.Stop(ctx, f.actor(stopped))
	require.NoError(t, err)

	f.advance(48*time.Hour + time.Minute)
	assert.Equal(t, coalition.StateOpen, f.co.Campaigns.State(c))
	require.NoError(t, f.co.Campaigns.RunLifecycle(ctx))
	told := f.ofKind("campaign_open_watch")
	require.Len(t, told, 1, "the one still waiting is told; not the forgotten, not the stopped")
	assert.Equal(t, waiting.ID, told[0].ContactID)
	assert.Equal(t, "/campaign later", told[0].Buttons[0][0].Payload)
	require.NoError(t, f.co.Campaigns.RunLifecycle(ctx))
	assert.Len(t, f.ofKind("campaign_open_watch"), 1, "once")
	_, _, err = f.co.Campaigns.Watch(ctx, f.actor(waiting), c.Code)
	assert.ErrorIs(t, err, coalition.ErrNotScheduled, "an open campaign has nothing to wait for")

	f.advance(8 * 24 * time.Hour)
	assert.Equal(t, coalition.StateClosed, f.co.Campaigns.State(c))
}

// The people waiting for a campaign hear it opened with what it asks of
// them: a pledge, a sign-up for its event, or both.
func TestOpeningNoticeSaysWhatTheCampaignAsks(t *testing.T) {
	ctx := context.Background()
	for kind, key := range map[store.CampaignKind]messages.Key{
		store.KindPledge: messages.CampaignOpenNowPledge,
		store.KindEvent:  messages.CampaignOpenNowEvent,
		store.KindBoth:   messages.CampaignOpenNow,
	} {
		t.Run(string(kind), func(t *testing.T) {
			f := newFixture(t)
			coord := f.actor(f.person(store.RoleCoordinator))
			start := f.clock().Add(2 * time.Hour)
			d := coalition.Draft{Code: "later", TitleAR: "لاحقًا", CallAR: "انضمّوا", Kind: kind, StartAt: start}
			if kind.HasEvent() {
				d.EventAt, d.EventPlace = start.Add(24*time.Hour), "نابلس"
			}
			_, err := f.co.Campaigns.Create(ctx, coord, d)
			require.NoError(t, err)
			waiting := f.person(store.RoleCitizen)
			_, _, err = f.co.Campaigns.Watch(ctx, f.actor(waiting), "later")
			require.NoError(t, err)
			f.advance(2*time.Hour + time.Minute)
			require.NoError(t, f.co.Campaigns.RunLifecycle(ctx))
			told := f.ofKind("campaign_open_watch")
			require.Len(t, told, 1)
			assert.Equal(t, f.cat.Text("ar", key, map[string]any{"Title": "لاحقًا"}), told[0].Text)
		})
	}
}

func TestClosingShowsWhatHappensAndKeepsTheEvent(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	coord := f.actor(f.person(store.RoleCoordinator))
	c := f.campaign("vigil", store.KindBoth, 10)
	people := f.crowd(3, "nablus")
	for _, p := range people {
		_, err := f.co.Campaigns.Pledge(ctx, f.actor(p), c.Code)
		require.NoError(t, err)
		_, err = f.co.Campaigns.SignUp(ctx, f.actor(p), c.Code)
		require.NoError(t, err)
	}
	_, err := f.co.People.Stop(ctx, f.actor(people[2]))
	require.NoError(t, err)

	impact, err := f.co.Campaigns.CloseImpact(ctx, coord, c.Code)
	require.NoError(t, err)
	assert.Equal(t, 2, impact.Pledgers, "those who agreed to messages are told")
	assert.Equal(t, 3, impact.Counts.Pledges)
	assert.False(t, impact.TargetReached)
	assert.True(t, impact.EventAhead)
	assert.Empty(t, f.ofKind("campaign_ended"), "asking changes nothing")

	_, err = f.co.Campaigns.Close(ctx, coord, c.Code)
	require.NoError(t, err)
	assert.Len(t, f.ofKind("campaign_ended"), 2)
	rs, err := f.st.Reminders(ctx)
	require.NoError(t, err)
	events := 0
	for _, r := range rs {
		if r.CampaignID == c.ID && r.Kind == store.ReminderEvent {
			events++
		}
	}
	assert.Equal(t, 2, events, "the event's reminders stay: those signed up were promised them")

	// the day before the event, its reminder still goes out
	f.advance(48*time.Hour + time.Minute)
	require.NoError(t, f.co.Reminders.FireDue(ctx))
	assert.Len(t, f.ofKind(store.KindReminder), 2, "to everyone signed up who has not said /stop, even after the close")

	_, err = f.co.Campaigns.CloseImpact(ctx, coord, c.Code)
	assert.ErrorIs(t, err, coalition.ErrCampaignClosed)
	reopened, err := f.co.Campaigns.Reopen(ctx, coord, c.Code, f.clock().Add(24*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, coalition.StateOpen, f.co.Campaigns.State(reopened))
	n, err := f.co.Campaigns.Counts(ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, 3, n.Pledges, "pledges kept")
	_, err = f.co.Campaigns.Reopen(ctx, coord, c.Code, time.Time{})
	assert.ErrorIs(t, err, coalition.ErrNotClosed)
	assert.Len(t, f.audit("campaign_reopened"), 1)
}

func TestEditingACampaign(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	coord := f.actor(f.person(store.RoleCoordinator))
	c := f.campaign("walk", store.KindBoth, 10)
	signed := f.crowd(2, "jenin")
	for _, p := range signed {
		_, err := f.co.Campaigns.SignUp(ctx, f.actor(p), c.Code)
		require.NoError(t, err)
		_, err = f.co.Campaigns.Pledge(ctx, f.actor(p), c.Code)
		require.NoError(t, err)
	}

	// the event moves: the reminders follow and those signed up are told
	moved := c.EventAt.Add(24 * time.Hour)
	place := "رام الله، دوار المنارة"
	res, err := f.co.Campaigns.Edit(ctx, coord, c.Code, coalition.Change{EventAt: &moved, EventPlace: &place})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"event_at", "place"}, res.Fields)
	assert.Equal(t, 2, res.Told)
	told := f.ofKind("event_changed")
	require.Len(t, told, 2)
	assert.Contains(t, told[0].Text, "رام الله")
	assert.True(t, told[0].Before.Equal(moved), "a notice of no use after the event")
	rs, err := f.st.Reminders(ctx)
	require.NoError(t, err)
	for _, r := range rs {
		if r.CampaignID == c.ID && r.Kind == store.ReminderEvent {
			assert.True(t, r.At.Before(moved) && r.At.After(c.EventAt.Add(-25*time.Hour)), "reminders moved with the event: %v", r.At)
		}
	}
	entry := f.audit("campaign_edited")
	require.Len(t, entry, 1)
	assert.Equal(t, place, entry[0].Details["place"])

	low := 1
	_, err = f.co.Campaigns.Edit(ctx, coord, c.Code, coalition.Change{Target: &low})
	var invalid *coalition.InvalidError
	require.ErrorAs(t, err, &invalid)
	assert.Equal(t, "target", invalid.Field, "below the 2 pledges made")
	end := c.EventAt.Add(-time.Hour)
	res, err = f.co.Campaigns.Edit(ctx, coord, c.Code, coalition.Change{EndAt: &end})
	require.NoError(t, err)
	assert.True(t, res.EndsBeforeEvent, "allowed, with a warning")
	past := f.clock().Add(-time.Hour)
	_, err = f.co.Campaigns.Edit(ctx, coord, c.Code, coalition.Change{EventAt: &past})
	require.ErrorAs(t, err, &invalid)
	same := c.TitleAR
	res, err = f.co.Campaigns.Edit(ctx, coord, c.Code, coalition.Change{TitleAR: &same})
	require.NoError(t, err)
	assert.Empty(t, res.Fields, "nothing changed, nothing audited")
	assert.Len(t, f.audit("campaign_edited"), 2)

	_, err = f.co.Campaigns.Close(ctx, coord, c.Code)
	require.NoError(t, err)
	_, err = f.co.Campaigns.Edit(ctx, coord, c.Code, coalition.Change{TitleAR: &place})
	assert.ErrorIs(t, err, coalition.ErrCampaignClosed, "reopen first")
}

func TestWithdrawingAPledge(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	c := f.campaign("walk", store.KindPledge, 0)
	p := f.actor(f.person(store.RoleCitizen))
	_, err := f.co.Campaigns.Withdraw(ctx, p, c.Code)
	assert.ErrorIs(t, err, coalition.ErrNotPledged)
	_, err = f.co.Campaigns.Pledge(ctx, p, c.Code)
	require.NoError(t, err)
	res, err := f.co.Campaigns.Withdraw(ctx, p, c.Code)
	require.NoError(t, err)
	assert.Zero(t, res.Counts.Pledges)
	standing, err := f.co.Campaigns.StandingOf(ctx, p, c)
	require.NoError(t, err)
	assert.False(t, standing.Pledged)
}

// An event reminder due inside quiet hours goes out before they start, and
// one that meets them late is never held past the event.
func TestEventRemindersKeepQuietHoursButNotPastTheEvent(t *testing.T) {
	ctx := context.Background()
	quiet, err := schedule.ParseQuietHours("21:00-07:00")
	require.NoError(t, err)
	f := newFixture(t, coalition.WithQuietHours(quiet))
	coord := f.actor(f.person(store.RoleCoordinator))
	event := time.Date(2026, 12, 10, 22, 17, 0, 0, f.loc)
	c, err := f.co.Campaigns.Create(ctx, coord, coalition.Draft{Code: "night", TitleAR: "وقفة ليلية", CallAR: "تعالوا",
		Kind: store.KindEvent, StartAt: f.clock(), EventAt: event, EventPlace: "جنين", ReminderOffsets: []time.Duration{time.Hour}})
	require.NoError(t, err)
	rs, err := f.st.Reminders(ctx)
	require.NoError(t, err)
	require.Len(t, rs, 1)
	assert.True(t, rs[0].NextFireAt.Equal(time.Date(2026, 12, 10, 20, 59, 0, 0, f.loc)),
		"due at 21:17, inside the quiet window: sent at 20:59, got %v", rs[0].NextFireAt.In(f.loc))
	_ = c

	// a late one, in the window, goes rather than wait for the morning
	late := store.OutboxEntry{Kind: store.KindReminder, Bulk: true, Before: event}
	at := time.Date(2026, 12, 10, 21, 30, 0, 0, f.loc)
	assert.True(t, f.co.Sending.Hold(at, &late).IsZero(), "07:00 is after the event")
	plain := store.OutboxEntry{Kind: store.KindReminder, Bulk: true}
	assert.False(t, f.co.Sending.Hold(at, &plain).IsZero(), "an ordinary reminder waits")
}

// Text that others will read is cleaned where it comes in: a U+202E in a
// title would turn it, and everything after it, around.
func TestFreeTextIsCleanedAtIntake(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	coord := f.actor(f.person(store.RoleCoordinator))
	c, err := f.co.Campaigns.Create(ctx, coord, coalition.Draft{Code: "clean", TitleAR: "حملة \u202eالسلام", CallAR: "تعالوا\u200b معنا",
		Kind: store.KindPledge, StartAt: f.clock()})
	require.NoError(t, err)
	assert.Equal(t, "حملة السلام", c.TitleAR)
	assert.Equal(t, "تعالوا معنا", c.CallAR)
	f.crowd(1, "jenin")
	res, err := f.co.Broadcasts.Submit(ctx, coord, coalition.BroadcastDraft{TextAR: "نداء \u2066مهم\u2069", Audience: governorate("jenin")})
	require.NoError(t, err)
	assert.Equal(t, "نداء مهم", res.Broadcast.TextAR)
}

// A campaign that starts as it is created was announced to its creator a
// minute later as having started, though the creation had said so.
func TestCampaignStartingAtCreationIsNotAnnouncedAgain(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	coord := f.actor(f.person(store.RoleCoordinator))
	_, err := f.co.Campaigns.Create(ctx, coord, coalition.Draft{Code: "now", TitleAR: "الآن", CallAR: "انضمّوا",
		Kind: store.KindPledge, StartAt: f.clock()})
	require.NoError(t, err)
	_, err = f.co.Campaigns.Create(ctx, coord, coalition.Draft{Code: "later", TitleAR: "لاحقًا", CallAR: "انضمّوا",
		Kind: store.KindPledge, StartAt: f.clock().Add(time.Hour)})
	require.NoError(t, err)
	f.advance(time.Minute)
	require.NoError(t, f.co.Campaigns.RunLifecycle(ctx))
	assert.Empty(t, f.ofKind("campaign_opened"), "the creator saw it start when creating it")
	f.advance(time.Hour)
	require.NoError(t, f.co.Campaigns.RunLifecycle(ctx))
	assert.Len(t, f.ofKind("campaign_opened"), 1, "a scheduled one is announced as it starts")
}
