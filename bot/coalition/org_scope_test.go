package coalition_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot/coalition"
	"mobilise/store"
)

// The scopes of the coalition and its member institutions, tested at the
// operations: every operation, as every kind of person, on things of every
// scope. X, Y and Z are member institutions; Z is suspended.

// The people who act, by what they are.
const (
	asCitizen     = "citizen"
	asMember      = "coalition member" // a member role with no institution to act for
	asCoordinator = "coalition coordinator"
	asAdmin       = "coalition admin"
	asXRep        = "X representative"
	asXCoord      = "X coordinator"
	asYCoord      = "Y coordinator"
	asZCoord      = "Z coordinator (suspended)"
)

var everyActor = []string{asCitizen, asMember, asCoordinator, asAdmin, asXRep, asXCoord, asYCoord, asZCoord}

// scopeWorld is three member institutions with their people and
// supporters, and the coalition's own people.
type scopeWorld struct {
	f       *fixture
	x, y, z member
	people  map[string]*store.Contact
}

func newScopeWorld(t *testing.T) *scopeWorld {
	t.Helper()
	f := newFixture(t)
	w := &scopeWorld{f: f, x: f.institution("Dialogue Centre"), y: f.institution("Peace Forum"), z: f.institution("Old Union")}
	w.people = map[string]*store.Contact{
		asCitizen: f.person(store.RoleCitizen), asMember: f.person(store.RoleMember),
		asCoordinator: f.person(store.RoleCoordinator), asAdmin: f.person(store.RoleAdmin),
		asXRep: w.x.rep, asXCoord: f.coordinatorOf(w.x), asYCoord: f.coordinatorOf(w.y), asZCoord: f.coordinatorOf(w.z),
	}
	f.supporters(w.x, 2, "nablus")
	f.supporters(w.y, 2, "gaza")
	f.supporters(w.z, 1, "jenin")
	_, err := f.co.Institutions.Suspend(context.Background(), f.actor(f.admin()), w.z.inst.ID, "report missing")
	require.NoError(t, err)
	return w
}

// as is the named person acting now.
func (w *scopeWorld) as(name string) coalition.Actor { return w.f.actor(w.people[name]) }

// xs, ys and joint organisers.
func (w *scopeWorld) xs() store.Organiser { return store.OrganisedBy(w.x.inst.ID) }
func (w *scopeWorld) ys() store.Organiser { return store.OrganisedBy(w.y.inst.ID) }

// campaignOf is a fresh open campaign organised by org, created by an admin.
func (w *scopeWorld) campaignOf(org store.Organiser) *store.Campaign {
	return w.f.mustOrgCampaign(w.f.actor(w.f.admin()), org)
}

// freshMember is a new active member institution with its representative.
func (w *scopeWorld) freshMember() member { return w.f.institution("Member " + w.f.code()) }

type scopeCase struct {
	name    string
	allowed []string
	do      func(w *scopeWorld, by coalition.Actor) error
	// refusal is the error a refused actor gets; ErrNotAllowed when nil.
	refusal func(w *scopeWorld, actor string) error
}

func scopeCases() []scopeCase {
	ctx := context.Background()
	staff := []string{asCoordinator, asAdmin}
	xPeople := []string{asXRep, asXCoord}
	with := func(lists ...[]string) []string { return slices.Concat(lists...) }
	send := func(org func(w *scopeWorld) store.Organiser, inst func(w *scopeWorld) uint64) func(w *scopeWorld, by coalition.Actor) error {
		return func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.co.Broadcasts.Submit(ctx, by, coalition.BroadcastDraft{TextAR: "نص", Organiser: org(w),
				Audience: store.Audience{Kind: store.AudienceEveryone, Institution: inst(w)}})
			return err
		}
	}
	coalitionOrg := func(*scopeWorld) store.Organiser { return store.CoalitionOrganiser() }
	xOrg := func(w *scopeWorld) store.Organiser { return w.xs() }
	xID := func(w *scopeWorld) uint64 { return w.x.inst.ID }
	yID := func(w *scopeWorld) uint64 { return w.y.inst.ID }
	none := func(*scopeWorld) uint64 { return 0 }
	// outside: who acts for X (and the admins, who may) is told it is out of reach
	outside := func(_ *scopeWorld, actor string) error {
		if actor == asXRep || actor == asXCoord || actor == asAdmin {
			return coalition.ErrOutsideScope
		}
		return coalition.ErrNotAllowed
	}
	return []scopeCase{
		{"create a coalition campaign", staff, func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.orgCampaign(by, store.CoalitionOrganiser())
			return err
		}, nil},
		{"create a campaign of X", with([]string{asAdmin}, xPeople), func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.orgCampaign(by, w.xs())
			return err
		}, nil},
		{"create a campaign of suspended Z", nil, func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.orgCampaign(by, store.OrganisedBy(w.z.inst.ID))
			return err
		}, func(_ *scopeWorld, actor string) error {
			if slices.Contains([]string{asCitizen, asMember, asZCoord}, actor) {
				return coalition.ErrNotAllowed
			}
			return coalition.ErrNotMember
		}},
		{"create a joint campaign of X and Y", []string{asAdmin}, func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.orgCampaign(by, store.OrganisedBy(w.x.inst.ID, w.y.inst.ID))
			return err
		}, nil},
		{"close a coalition campaign", staff, func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.co.Campaigns.Close(ctx, by, w.campaignOf(store.CoalitionOrganiser()).Code)
			return err
		}, nil},
		{"close a campaign of X", with(staff, xPeople), func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.co.Campaigns.Close(ctx, by, w.campaignOf(w.xs()).Code)
			return err
		}, nil},
		{"close a joint campaign Y leads with X", with(staff, []string{asYCoord}), func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.co.Campaigns.Close(ctx, by, w.campaignOf(store.OrganisedBy(w.y.inst.ID, w.x.inst.ID)).Code)
			return err
		}, nil},
		{"edit a campaign of X", with(staff, xPeople), func(w *scopeWorld, by coalition.Actor) error {
			title := "عنوان آخر"
			_, err := w.f.co.Campaigns.Edit(ctx, by, w.campaignOf(w.xs()).Code, coalition.Change{TitleAR: &title})
			return err
		}, nil},
		{"see what closing a campaign of Y does", with(staff, []string{asYCoord}), func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.co.Campaigns.CloseImpact(ctx, by, w.campaignOf(w.ys()).Code)
			return err
		}, nil},
		{"reopen a campaign of X", with(staff, xPeople), func(w *scopeWorld, by coalition.Actor) error {
			c := w.campaignOf(w.xs())
			_, err := w.f.co.Campaigns.Close(ctx, w.f.actor(w.f.admin()), c.Code)
			require.NoError(w.f.t, err)
			_, err = w.f.co.Campaigns.Reopen(ctx, by, c.Code, time.Time{})
			return err
		}, nil},
		{"read the stats of a campaign of X", with(staff, xPeople), func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.co.Campaigns.Stats(ctx, by, w.campaignOf(w.xs()))
			return err
		}, nil},
		{"read the stats of a joint campaign Y leads with X", with(staff, xPeople, []string{asYCoord}), func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.co.Campaigns.Stats(ctx, by, w.campaignOf(store.OrganisedBy(w.y.inst.ID, w.x.inst.ID)))
			return err
		}, nil},
		{"read the shares of a joint campaign", with(staff, xPeople, []string{asYCoord}), func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.co.Campaigns.Shares(ctx, by, w.campaignOf(store.OrganisedBy(w.x.inst.ID, w.y.inst.ID)))
			return err
		}, nil},
		{"invite Y to a campaign of X", with(staff, xPeople), func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.co.Campaigns.Invite(ctx, by, w.campaignOf(w.xs()).Code, w.y.inst.ID)
			return err
		}, nil},
		{"accept an invitation for Y", []string{asAdmin, asYCoord}, func(w *scopeWorld, by coalition.Actor) error {
			c := w.campaignOf(w.xs())
			_, err := w.f.co.Campaigns.Invite(ctx, w.f.actor(w.x.rep), c.Code, w.y.inst.ID)
			require.NoError(w.f.t, err)
			_, err = w.f.co.Campaigns.Answer(ctx, by, c.Code, w.y.inst.ID, true)
			return err
		}, nil},
		{"message X's supporters as X", with([]string{asAdmin}, xPeople), send(xOrg, xID), nil},
		{"message the whole coalition as X", with([]string{asAdmin}, xPeople), send(xOrg, none), nil},
		{"message Y's supporters as X", nil, send(xOrg, yID), outside},
		{"message X's supporters as the coalition", staff, send(coalitionOrg, xID), nil},
		{"message the whole coalition as the coalition", staff, send(coalitionOrg, none), nil},
		{"message pledgers of Y's campaign among X's supporters", []string{asAdmin}, func(w *scopeWorld, by coalition.Actor) error {
			c := w.campaignOf(w.ys())
			_, err := w.f.co.Broadcasts.Preview(ctx, by, coalition.BroadcastDraft{TextAR: "نص", CampaignID: c.ID, Organiser: w.xs(),
				Audience: store.Audience{Kind: store.AudiencePledgers, Institution: w.x.inst.ID}})
			return err
		}, nil},
		{"test a message to X's supporters on oneself", with([]string{asAdmin}, xPeople), func(w *scopeWorld, by coalition.Actor) error {
			_, _, err := w.f.co.Broadcasts.TestCopy(ctx, by, coalition.BroadcastDraft{TextAR: "نص", Organiser: w.xs(),
				Audience: store.Audience{Kind: store.AudienceEveryone, Institution: w.x.inst.ID}})
			return err
		}, nil},
		{"schedule a reminder to X's supporters", with([]string{asAdmin}, xPeople), func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.co.Reminders.Create(ctx, by, coalition.ReminderDraft{TextAR: "تذكير", Organiser: w.xs(), At: w.f.clock().Add(time.Hour),
				Audience: store.Audience{Kind: store.AudienceEveryone, Institution: w.x.inst.ID}})
			return err
		}, nil},
		{"schedule a reminder to Y's supporters as X", nil, func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.co.Reminders.Create(ctx, by, coalition.ReminderDraft{TextAR: "تذكير", Organiser: w.xs(), At: w.f.clock().Add(time.Hour),
				Audience: store.Audience{Kind: store.AudienceEveryone, Institution: w.y.inst.ID}})
			return err
		}, outside},
		{"cancel an X coordinator's broadcast", []string{asAdmin, asXRep, asXCoord}, func(w *scopeWorld, by coalition.Actor) error {
			res, err := w.f.co.Broadcasts.Submit(ctx, w.as(asXCoord), coalition.BroadcastDraft{TextAR: "نص", Organiser: w.xs(),
				Audience: store.Audience{Kind: store.AudienceEveryone, Institution: w.x.inst.ID}})
			require.NoError(w.f.t, err)
			_, _, err = w.f.co.Broadcasts.Cancel(ctx, by, res.Broadcast.ID)
			return err
		}, nil},
		{"cancel an X coordinator's reminder", []string{asAdmin, asXRep, asXCoord}, func(w *scopeWorld, by coalition.Actor) error {
			res, err := w.f.co.Reminders.Create(ctx, w.as(asXCoord), coalition.ReminderDraft{TextAR: "تذكير", Organiser: w.xs(), At: w.f.clock().Add(time.Hour),
				Audience: store.Audience{Kind: store.AudienceEveryone, Institution: w.x.inst.ID}})
			require.NoError(w.f.t, err)
			_, err = w.f.co.Reminders.Cancel(ctx, by, res.Reminder.ID)
			return err
		}, nil},
		{"list broadcasts and reminders", with(staff, xPeople, []string{asYCoord}), func(w *scopeWorld, by coalition.Actor) error {
			if _, err := w.f.co.Broadcasts.Recent(ctx, by, 10); err != nil {
				return err
			}
			_, err := w.f.co.Reminders.Upcoming(ctx, by)
			return err
		}, nil},
		{"appoint a coordinator of X", []string{asAdmin, asXRep}, func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.co.Institutions.Appoint(ctx, by, w.x.inst.ID, w.f.person(store.RoleCitizen), store.InstitutionCoordinator)
			return err
		}, nil},
		{"add a representative of X", []string{asAdmin, asXRep}, func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.co.Institutions.Appoint(ctx, by, w.x.inst.ID, w.f.person(store.RoleCitizen), store.InstitutionRepresentative)
			return err
		}, nil},
		{"appoint a coordinator of suspended Z", nil, func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.co.Institutions.Appoint(ctx, by, w.z.inst.ID, w.f.person(store.RoleCitizen), store.InstitutionCoordinator)
			return err
		}, func(_ *scopeWorld, actor string) error {
			if actor == asAdmin {
				return coalition.ErrNotMember
			}
			return coalition.ErrNotAllowed
		}},
		{"remove a coordinator of X", []string{asAdmin, asXRep}, func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.co.Institutions.Remove(ctx, by, w.x.inst.ID, w.f.coordinatorOf(w.x))
			return err
		}, nil},
		{"change X's details", []string{asAdmin, asXRep}, func(w *scopeWorld, by coalition.Actor) error {
			field := "culture"
			_, err := w.f.co.Institutions.Update(ctx, by, w.x.inst.ID, coalition.InstitutionChange{Field: &field})
			return err
		}, nil},
		{"see X's numbers", with(staff, xPeople), func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.co.Institutions.Numbers(ctx, by, w.x.inst.ID)
			return err
		}, nil},
		{"see X's people", with(staff, xPeople), func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.co.Institutions.People(ctx, by, w.x.inst.ID)
			return err
		}, nil},
		{"see the coalition's numbers by institution", staff, func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.co.Institutions.Overview(ctx, by)
			return err
		}, nil},
		{"list every institution", staff, func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.co.Institutions.All(ctx, by)
			return err
		}, nil},
		{"suspend a member", []string{asAdmin}, func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.co.Institutions.Suspend(ctx, by, w.freshMember().inst.ID, "no report")
			return err
		}, nil},
		{"reinstate a member", []string{asAdmin}, func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.co.Institutions.Reinstate(ctx, by, w.z.inst.ID, "report received")
			if err == nil {
				_, err = w.f.co.Institutions.Suspend(ctx, by, w.z.inst.ID, "again")
			}
			return err
		}, nil},
		{"end a membership", []string{asAdmin}, func(w *scopeWorld, by coalition.Actor) error {
			_, err := w.f.co.Institutions.End(ctx, by, w.freshMember().inst.ID, "closed down")
			return err
		}, nil},
		{"approve a change of name", []string{asAdmin}, func(w *scopeWorld, by coalition.Actor) error {
			m := w.freshMember()
			name := "مؤسسة باسم جديد"
			res, err := w.f.co.Institutions.Update(ctx, w.f.actor(m.rep), m.inst.ID, coalition.InstitutionChange{NameAR: &name})
			require.NoError(w.f.t, err)
			require.True(w.f.t, res.RenamePending)
			_, err = w.f.co.Institutions.DecideRename(ctx, by, m.inst.ID, true, "")
			return err
		}, nil},
		{"join X's supporters", everyActor, func(w *scopeWorld, by coalition.Actor) error {
			_, _, err := w.f.co.Institutions.Join(ctx, by, w.x.inst.ID, false)
			return err
		}, nil},
		{"browse the directory", everyActor, func(w *scopeWorld, _ coalition.Actor) error {
			_, err := w.f.co.Institutions.Directory(ctx, "", "")
			return err
		}, nil},
	}
}

// TestEveryRoleInEveryScope runs each operation as each kind of person:
// those allowed succeed, everyone else is refused with the scope's error.
func TestEveryRoleInEveryScope(t *testing.T) {
	for _, tc := range scopeCases() {
		t.Run(tc.name, func(t *testing.T) {
			w := newScopeWorld(t)
			for _, actor := range everyActor {
				err := tc.do(w, w.as(actor))
				if slices.Contains(tc.allowed, actor) {
					assert.NoError(t, err, "as %s", actor)
					continue
				}
				want := error(coalition.ErrNotAllowed)
				if tc.refusal != nil {
					want = tc.refusal(w, actor)
				}
				assert.ErrorIs(t, err, want, "as %s", actor)
			}
		})
	}
}

// TestRefusedInScopeChangesNothing checks that what an institution's
// coordinator is refused outside its scope leaves no trace.
func TestRefusedInScopeChangesNothing(t *testing.T) {
	ctx := context.Background()
	w := newScopeWorld(t)
	f := w.f
	yCampaign := w.campaignOf(w.ys())
	auditBefore, queuedBefore := f.auditCount(), len(f.queued())
	by := w.as(asXCoord)

	_, err := f.co.Broadcasts.Submit(ctx, by, coalition.BroadcastDraft{TextAR: "نص", Organiser: w.xs(),
		Audience: store.Audience{Kind: store.AudienceEveryone, Institution: w.y.inst.ID}})
	require.ErrorIs(t, err, coalition.ErrOutsideScope)
	_, err = f.co.Broadcasts.Submit(ctx, by, coalition.BroadcastDraft{TextAR: "نص", Organiser: w.ys(),
		Audience: store.Audience{Kind: store.AudienceEveryone, Institution: w.y.inst.ID}})
	require.ErrorIs(t, err, coalition.ErrNotAllowed, "nor in Y's name")
	_, err = f.co.Campaigns.Close(ctx, by, yCampaign.Code)
	require.ErrorIs(t, err, coalition.ErrNotAllowed)
	_, err = f.co.Institutions.Appoint(ctx, by, w.x.inst.ID, f.person(store.RoleCitizen), store.InstitutionCoordinator)
	require.ErrorIs(t, err, coalition.ErrNotAllowed, "a coordinator does not appoint")
	_, err = f.co.Institutions.Suspend(ctx, by, w.y.inst.ID, "rival")
	require.ErrorIs(t, err, coalition.ErrNotAllowed)

	assert.Equal(t, auditBefore, f.auditCount(), "no audit entry")
	assert.Equal(t, queuedBefore, len(f.queued()), "no message")
	got, err := f.st.Campaign(ctx, yCampaign.ID)
	require.NoError(t, err)
	assert.False(t, got.Closed)
	y, err := f.st.Institution(ctx, w.y.inst.ID)
	require.NoError(t, err)
	assert.True(t, y.Active())
}
