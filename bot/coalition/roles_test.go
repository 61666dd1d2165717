package coalition_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/coalition"
	"mobilise/bot/schedule"
	"mobilise/store"
)

// roleCase is one operation, the least role that may do it, and how to do
// it validly as by: everything the call needs is made fresh, so a refusal
// can only come from the role.
type roleCase struct {
	name string
	min  store.Role
	do   func(f *fixture, by coalition.Actor) error
}

// pendingBroadcast is a broadcast over the threshold awaiting approval, by a
// coordinator who is not the caller.
func pendingBroadcast(f *fixture) *store.Broadcast {
	f.t.Helper()
	f.crowd(4, "tubas")
	res, err := f.co.Broadcasts.Submit(context.Background(), f.actor(f.person(store.RoleCoordinator)),
		coalition.BroadcastDraft{TextAR: "نص", TextEN: "text", Audience: governorate("tubas")})
	require.NoError(f.t, err)
	require.True(f.t, res.AwaitingApproval)
	return res.Broadcast
}

// pendingReminder is a reminder over the threshold awaiting approval.
func pendingReminder(f *fixture) *store.Reminder {
	f.t.Helper()
	f.crowd(4, "jenin")
	res, err := f.co.Reminders.Create(context.Background(), f.actor(f.person(store.RoleCoordinator)),
		coalition.ReminderDraft{TextAR: "تذكير", Audience: governorate("jenin"), At: f.clock().Add(time.Hour)})
	require.NoError(f.t, err)
	require.True(f.t, res.AwaitingApproval)
	return res.Reminder
}

// suspended is a broadcast stopped by its author's dismissal.
func suspended(f *fixture) uint64 {
	f.t.Helper()
	ctx := context.Background()
	author := f.person(store.RoleCoordinator)
	f.crowd(4, "qalqilya")
	res, err := f.co.Broadcasts.Submit(ctx, f.actor(author), coalition.BroadcastDraft{TextAR: "نص", Audience: governorate("qalqilya")})
	require.NoError(f.t, err)
	admin := f.person(store.RoleAdmin)
	ch, err := f.co.Members.Dismiss(ctx, f.actor(admin), author)
	require.NoError(f.t, err)
	require.Equal(f.t, []uint64{res.Broadcast.ID}, ch.Stopped.Broadcasts)
	return res.Broadcast.ID
}

func roleCases() []roleCase {
	ctx := context.Background()
	return []roleCase{
		{"create a campaign", store.RoleCoordinator, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Campaigns.Create(ctx, by, coalition.Draft{Code: "c" + f.code(), TitleAR: "حملة", CallAR: "نص",
				Kind: store.KindPledge, StartAt: f.clock()})
			return err
		}},
		{"close a campaign", store.RoleCoordinator, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Campaigns.Close(ctx, by, f.campaign("c"+f.code(), store.KindPledge, 0).Code)
			return err
		}},
		{"see what closing does", store.RoleCoordinator, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Campaigns.CloseImpact(ctx, by, f.campaign("c"+f.code(), store.KindPledge, 0).Code)
			return err
		}},
		{"reopen a campaign", store.RoleCoordinator, func(f *fixture, by coalition.Actor) error {
			c := f.campaign("c"+f.code(), store.KindPledge, 0)
			_, err := f.co.Campaigns.Close(ctx, f.actor(f.person(store.RoleCoordinator)), c.Code)
			require.NoError(f.t, err)
			_, err = f.co.Campaigns.Reopen(ctx, by, c.Code, time.Time{})
			return err
		}},
		{"edit a campaign", store.RoleCoordinator, func(f *fixture, by coalition.Actor) error {
			title := "عنوان جديد"
			_, err := f.co.Campaigns.Edit(ctx, by, f.campaign("c"+f.code(), store.KindPledge, 0).Code, coalition.Change{TitleAR: &title})
			return err
		}},
		{"read a campaign's stats", store.RoleCoordinator, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Campaigns.Stats(ctx, by, f.campaign("c"+f.code(), store.KindPledge, 0))
			return err
		}},
		{"pledge", store.RoleCitizen, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Campaigns.Pledge(ctx, by, f.campaign("c"+f.code(), store.KindPledge, 0).Code)
			return err
		}},
		{"withdraw a pledge", store.RoleCitizen, func(f *fixture, by coalition.Actor) error {
			c := f.campaign("c"+f.code(), store.KindPledge, 0)
			_, err := f.co.Campaigns.Pledge(ctx, by, c.Code)
			require.NoError(f.t, err)
			_, err = f.co.Campaigns.Withdraw(ctx, by, c.Code)
			return err
		}},
		{"sign up and cancel", store.RoleCitizen, func(f *fixture, by coalition.Actor) error {
			c := f.campaign("c"+f.code(), store.KindEvent, 0)
			if _, err := f.co.Campaigns.SignUp(ctx, by, c.Code); err != nil {
				return err
			}
			_, err := f.co.Campaigns.CancelSignup(ctx, by, c.Code)
			return err
		}},
		{"register an institution", store.RoleCitizen, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Institutions.Register(ctx, by, coalition.Application{NameAR: "مركز", Field: "youth",
				Governorates: []string{"nablus"}, ContactPerson: "سمر", Email: "a@b.org"})
			return err
		}},
		{"list applications", store.RoleAdmin, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Institutions.Pending(ctx, by)
			return err
		}},
		{"approve an institution", store.RoleAdmin, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Institutions.Approve(ctx, by, f.application(), "")
			return err
		}},
		{"reject an institution", store.RoleAdmin, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Institutions.Reject(ctx, by, f.application(), "incomplete")
			return err
		}},
		{"appoint a coordinator", store.RoleAdmin, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Members.Appoint(ctx, by, f.person(store.RoleCitizen))
			return err
		}},
		{"dismiss a coordinator", store.RoleAdmin, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Members.Dismiss(ctx, by, f.person(store.RoleCoordinator))
			return err
		}},
		{"list the staff", store.RoleAdmin, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Members.Staff(ctx, by)
			return err
		}},
		{"take over a stopped send", store.RoleAdmin, func(f *fixture, by coalition.Actor) error {
			return f.co.Members.TakeOver(ctx, by, "broadcast", suspended(f))
		}},
		{"drop a stopped send", store.RoleAdmin, func(f *fixture, by coalition.Actor) error {
			return f.co.Members.Drop(ctx, by, "broadcast", suspended(f))
		}},
		{"preview a broadcast", store.RoleCoordinator, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Broadcasts.Preview(ctx, by, coalition.BroadcastDraft{TextAR: "نص", Audience: everyone})
			return err
		}},
		{"test a broadcast on oneself", store.RoleCoordinator, func(f *fixture, by coalition.Actor) error {
			_, _, err := f.co.Broadcasts.TestCopy(ctx, by, coalition.BroadcastDraft{TextAR: "نص", Audience: everyone})
			return err
		}},
		{"submit a broadcast", store.RoleCoordinator, func(f *fixture, by coalition.Actor) error {
			f.crowd(1, "salfit")
			_, err := f.co.Broadcasts.Submit(ctx, by, coalition.BroadcastDraft{TextAR: "نص", Audience: governorate("salfit")})
			return err
		}},
		{"list broadcasts", store.RoleCoordinator, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Broadcasts.Recent(ctx, by, 5)
			return err
		}},
		{"approve a broadcast", store.RoleAdmin, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Broadcasts.Approve(ctx, by, pendingBroadcast(f).ID)
			return err
		}},
		{"reject a broadcast", store.RoleAdmin, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Broadcasts.Reject(ctx, by, pendingBroadcast(f).ID)
			return err
		}},
		{"cancel one's own broadcast", store.RoleCoordinator, func(f *fixture, by coalition.Actor) error {
			author := by
			if !by.Role.AtLeast(store.RoleCoordinator) {
				author = f.actor(f.person(store.RoleCoordinator))
			}
			f.crowd(1, "rafah")
			res, err := f.co.Broadcasts.Submit(ctx, author, coalition.BroadcastDraft{TextAR: "نص", Audience: governorate("rafah")})
			require.NoError(f.t, err)
			_, _, err = f.co.Broadcasts.Cancel(ctx, by, res.Broadcast.ID)
			return err
		}},
		{"schedule a reminder", store.RoleCoordinator, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Reminders.Create(ctx, by, coalition.ReminderDraft{TextAR: "تذكير", Audience: governorate("gaza"), At: f.clock().Add(time.Hour)})
			return err
		}},
		{"schedule a recurring reminder", store.RoleCoordinator, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Reminders.Create(ctx, by, coalition.ReminderDraft{TextAR: "تذكير", Audience: governorate("gaza"),
				Schedule: &schedule.Schedule{Days: []time.Weekday{time.Friday}, Hour: 10}})
			return err
		}},
		{"list reminders", store.RoleCoordinator, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Reminders.Upcoming(ctx, by)
			return err
		}},
		{"approve a reminder", store.RoleAdmin, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Reminders.Approve(ctx, by, pendingReminder(f).ID)
			return err
		}},
		{"reject a reminder", store.RoleAdmin, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.Reminders.Reject(ctx, by, pendingReminder(f).ID)
			return err
		}},
		{"cancel one's own reminder", store.RoleCoordinator, func(f *fixture, by coalition.Actor) error {
			author := by
			if !by.Role.AtLeast(store.RoleCoordinator) {
				author = f.actor(f.person(store.RoleCoordinator))
			}
			res, err := f.co.Reminders.Create(ctx, author, coalition.ReminderDraft{TextAR: "تذكير", Audience: governorate("hebron"), At: f.clock().Add(time.Hour)})
			require.NoError(f.t, err)
			_, err = f.co.Reminders.Cancel(ctx, by, res.Reminder.ID)
			return err
		}},
		{"pause all sending", store.RoleAdmin, func(f *fixture, by coalition.Actor) error {
			return f.co.Sending.Pause(ctx, by)
		}},
		{"resume sending", store.RoleAdmin, func(f *fixture, by coalition.Actor) error {
			return f.co.Sending.Resume(ctx, by)
		}},
		{"see one's own data", store.RoleCitizen, func(f *fixture, by coalition.Actor) error {
			_, err := f.co.People.MyData(ctx, by)
			return err
		}},
		{"stop and resume messages", store.RoleCitizen, func(f *fixture, by coalition.Actor) error {
			if _, err := f.co.People.Stop(ctx, by); err != nil {
				return err
			}
			_, err := f.co.People.Resume(ctx, by)
			return err
		}},
	}
}

// code is a fresh code for a campaign.
func (f *fixture) code() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	return "x" + string(rune('a'+f.n%26)) + string(rune('a'+f.n/26%26)) + string(rune('a'+f.n/676%26))
}

// application is a pending institution application by a citizen.
func (f *fixture) application() uint64 {
	f.t.Helper()
	inst, err := f.co.Institutions.Register(context.Background(), f.actor(f.person(store.RoleCitizen)), coalition.Application{
		NameAR: "جمعية " + f.code(), Field: "youth", Governorates: []string{"jenin"}, ContactPerson: "ليلى", Phone: "0599123456"})
	require.NoError(f.t, err)
	return inst.ID
}

// TestEveryOperationChecksTheRole runs each operation as each role: below
// its least role it is refused with ErrNotAllowed and changes nothing;
// from it on it succeeds. The operation decides, whatever front end calls.
func TestEveryOperationChecksTheRole(t *testing.T) {
	for _, tc := range roleCases() {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
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

// TestRefusedOperationsChangeNothing checks that an operation refused for
// the role leaves no trace: no audit entry and no message queued by it.
func TestRefusedOperationsChangeNothing(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	citizen := f.actor(f.person(store.RoleCitizen))
	c := f.campaign("walk", store.KindPledge, 0)
	f.crowd(5, "nablus")
	auditBefore, queuedBefore := f.auditCount(), len(f.queued())

	_, err := f.co.Broadcasts.Submit(ctx, citizen, coalition.BroadcastDraft{TextAR: "نص", Audience: everyone})
	require.ErrorIs(t, err, coalition.ErrNotAllowed)
	_, err = f.co.Campaigns.Close(ctx, citizen, c.Code)
	require.ErrorIs(t, err, coalition.ErrNotAllowed)
	_, err = f.co.Reminders.Create(ctx, citizen, coalition.ReminderDraft{TextAR: "تذكير", Audience: everyone, At: f.clock().Add(time.Hour)})
	require.ErrorIs(t, err, coalition.ErrNotAllowed)
	require.ErrorIs(t, f.co.Sending.Pause(ctx, citizen), coalition.ErrNotAllowed)
	_, err = f.co.Members.Appoint(ctx, citizen, f.person(store.RoleCitizen))
	require.ErrorIs(t, err, coalition.ErrNotAllowed)

	assert.Equal(t, auditBefore, f.auditCount(), "no audit entry")
	assert.Equal(t, queuedBefore, len(f.queued()), "no message")
	got, err := f.st.Campaign(ctx, c.ID)
	require.NoError(t, err)
	assert.False(t, got.Closed)
	p, err := f.co.Sending.Paused(ctx)
	require.NoError(t, err)
	assert.Nil(t, p)
}

// auditCount is how many entries the audit log has.
func (f *fixture) auditCount() int {
	f.t.Helper()
	n := 0
	require.NoError(f.t, f.st.Audit(context.Background(), func(*store.AuditEntry) error { n++; return nil }))
	return n
}

// TestTheRoleIsReadAtEachCall checks that an actor is made with the role
// of the moment: a coordinator dismissed between two steps of a wizard, or
// between two dashboard requests, is refused at the next call.
func TestTheRoleIsReadAtEachCall(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	coord := f.person(store.RoleCoordinator)
	admin := f.actor(f.person(store.RoleAdmin))
	f.crowd(2, "nablus")
	draft := coalition.BroadcastDraft{TextAR: "نص", Audience: everyone}
	_, err := f.co.Broadcasts.Preview(ctx, f.actor(coord), draft)
	require.NoError(t, err)

	_, err = f.co.Members.Dismiss(ctx, admin, coord)
	require.NoError(t, err)
	now, err := f.co.Members.Actor(ctx, coord.ID, coord.Addresses[0])
	require.NoError(t, err)
	assert.Equal(t, store.RoleCitizen, now.Role)
	_, err = f.co.Broadcasts.Preview(ctx, now, draft)
	assert.ErrorIs(t, err, coalition.ErrNotAllowed, "the recipient count is not shown")
	_, _, err = f.co.Broadcasts.TestCopy(ctx, now, draft)
	assert.ErrorIs(t, err, coalition.ErrNotAllowed, "nor a test copy")
	_, err = f.co.Broadcasts.Submit(ctx, now, draft)
	assert.ErrorIs(t, err, coalition.ErrNotAllowed)

	// a person forgotten meanwhile is no actor at all
	gone := f.person(store.RoleCoordinator)
	require.NoError(t, f.co.People.Forget(ctx, f.actor(gone)))
	_, err = f.co.Members.Actor(ctx, gone.ID, gone.Addresses[0])
	assert.ErrorIs(t, err, coalition.ErrNotFound)
}

// TestConfiguredAdminsRankAsAdmin checks that an admin named in the
// configuration is an admin whatever the store says, and cannot be
// dismissed from chat.
func TestConfiguredAdminsRankAsAdmin(t *testing.T) {
	ctx := context.Background()
	// the fixture's first person writes from telegram:1001
	f := newFixture(t, coalition.WithAdmins(bot.MustParseAddress("telegram:1001")))
	c := f.person(store.RoleCitizen)
	require.Equal(t, "1001", c.Addresses[0].ID)
	by := f.actor(c)
	assert.Equal(t, store.RoleAdmin, by.Role, "whatever the store says")
	other := f.actor(f.person(store.RoleAdmin))
	_, err := f.co.Members.Dismiss(ctx, other, c)
	assert.ErrorIs(t, err, coalition.ErrConfiguredAdmin, "changed in the configuration, not from chat")
	_, err = f.co.Members.Dismiss(ctx, by, c)
	assert.True(t, errors.Is(err, coalition.ErrYourself) || errors.Is(err, coalition.ErrConfiguredAdmin), "%v", err)
}
