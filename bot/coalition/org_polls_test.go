package coalition_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/coalition"
	"mobilise/messages"
	"mobilise/store"
)

// An institution's poll is one of its sends: it asks its own supporters in
// its name, with the line that says so before the code; another
// institution's supporters are out of its reach; beyond its list it waits
// for the coalition's approval. Whoever answers is put on its list and
// counted in its numbers; its results and its closing are its people's.
func TestInstitutionPolls(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, coalition.WithApprovalThreshold(100))
	x, y := f.institution("Dialogue Centre"), f.institution("Peace Forum")
	coord := f.coordinatorOf(x)
	ours := f.supporters(x, 3, "nablus")
	f.supporters(y, 1, "nablus")
	crowd := f.crowd(2, "nablus")
	draft := yesNoMaybe(toSupporters(x))
	draft.Organiser = store.OrganisedBy(x.inst.ID)

	res, err := f.co.Polls.Submit(ctx, f.actor(coord), draft)
	require.NoError(t, err)
	assert.False(t, res.AwaitingApproval, "its own supporters need no approval")
	assert.Equal(t, store.OrganisedBy(x.inst.ID), res.Poll.Organiser)
	assert.Equal(t, ids(ours), f.recipientsOf(res.Broadcast.ID))
	copies := f.bulkOf(res.Broadcast.ID)
	require.NotEmpty(t, copies)
	for _, e := range copies {
		by := strings.Index(e.Text, "— "+messages.Isolate("مؤسسة Dialogue Centre"))
		code := strings.Index(e.Text, "/verify")
		require.True(t, by > 0 && code > by, "whom it is from, then its code: %q", e.Text)
	}
	v, err := f.co.Verify.Message(ctx, f.actor(ours[0]), copies[0].Text, &bot.Forward{FromBot: true})
	require.NoError(t, err)
	assert.Equal(t, coalition.VerdictGenuine, v.Kind, "the copy says the words its code vouches for")

	// another institution's supporters are out of reach; the whole coalition takes its approval
	other := yesNoMaybe(toSupporters(y))
	other.Organiser = store.OrganisedBy(x.inst.ID)
	_, err = f.co.Polls.Submit(ctx, f.actor(coord), other)
	assert.ErrorIs(t, err, coalition.ErrOutsideScope)
	wide := yesNoMaybe(governorate("nablus"))
	wide.Organiser = store.OrganisedBy(x.inst.ID)
	held, err := f.co.Polls.Submit(ctx, f.actor(coord), wide)
	require.NoError(t, err)
	assert.True(t, held.AwaitingApproval)
	assert.True(t, held.Preview.OutsideScope)
	_, err = f.co.Broadcasts.Approve(ctx, f.actor(f.admin()), held.Broadcast.ID)
	require.NoError(t, err)

	// whoever answers is on its list, and counted
	_, err = f.co.Polls.Answer(ctx, f.actor(ours[0]), res.Poll.ID, 0)
	require.NoError(t, err)
	_, err = f.co.Polls.Answer(ctx, f.actor(crowd[0]), held.Poll.ID, 1)
	require.NoError(t, err)
	sp, err := f.st.Supporter(ctx, x.inst.ID, crowd[0].ID)
	require.NoError(t, err)
	assert.True(t, sp.Active())
	assert.Equal(t, store.ViaPoll, sp.Via, "answering its poll put them on its list")
	a, err := f.st.PollAnswerOf(ctx, held.Poll.ID, crowd[0].ID)
	require.NoError(t, err)
	assert.Equal(t, x.inst.ID, a.Institution, "credited to it")
	_, _, err = f.co.Institutions.Leave(ctx, f.actor(ours[1]), x.inst.ID)
	require.NoError(t, err)
	_, err = f.co.Polls.Answer(ctx, f.actor(ours[1]), res.Poll.ID, 2)
	require.NoError(t, err)
	sp, err = f.st.Supporter(ctx, x.inst.ID, ours[1].ID)
	require.NoError(t, err)
	assert.False(t, sp.Active(), "an answer does not put back someone who left")
	n, err := f.co.Institutions.Numbers(ctx, f.actor(x.rep), x.inst.ID)
	require.NoError(t, err)
	assert.Equal(t, 2, n.Polls)
	assert.Equal(t, 3, n.Answers)
	assert.Equal(t, 3, n.ByGovernorate["nablus"].Answers)
	own, err := f.co.Institutions.Overview(ctx, f.actor(f.admin()))
	require.NoError(t, err)
	assert.Zero(t, own[0].Answers, "the coalition's own numbers count none of them")

	// its results and its closing are its people's
	_, err = f.co.Polls.Results(ctx, f.actor(y.rep), res.Poll.ID)
	assert.ErrorIs(t, err, coalition.ErrNotAllowed)
	r, err := f.co.Polls.Results(ctx, f.actor(x.rep), res.Poll.ID)
	require.NoError(t, err)
	assert.Equal(t, 2, r.Counts.Answered())
	coalitions := f.poll(yesNoMaybe(governorate("nablus")))
	recent, err := f.co.Polls.Recent(ctx, f.actor(coord), 10)
	require.NoError(t, err)
	var listed []uint64
	for _, p := range recent {
		listed = append(listed, p.ID)
	}
	assert.Equal(t, []uint64{held.Poll.ID, res.Poll.ID}, listed, "its own polls, not the coalition's")
	assert.NotContains(t, listed, coalitions.Poll.ID)
	_, err = f.co.Polls.Close(ctx, f.actor(y.rep), res.Poll.ID)
	assert.ErrorIs(t, err, coalition.ErrNotAllowed)
	closed, err := f.co.Polls.Close(ctx, f.actor(x.rep), res.Poll.ID)
	require.NoError(t, err, "its representative closes its poll")
	assert.True(t, closed.Closed)
}

// The question after an institution's event is its campaign's: it says
// whom it is from, and its answers count for the institution.
func TestInstitutionEventFollowUp(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	x := f.institution("Dialogue Centre")
	c, err := f.co.Campaigns.Create(ctx, f.actor(x.rep), coalition.Draft{Code: "vigil", TitleAR: "وقفة", TitleEN: "Vigil",
		CallAR: "تعالوا", Kind: store.KindEvent, StartAt: f.clock().Add(-time.Minute), EventAt: f.clock().Add(2 * time.Hour), EventPlace: "الساحة",
		Organiser: store.OrganisedBy(x.inst.ID)})
	require.NoError(t, err)
	people := f.crowd(2, "nablus")
	for _, p := range people {
		_, err := f.co.Campaigns.SignUp(ctx, f.actor(p), c.Code)
		require.NoError(t, err)
	}
	f.advance(2*time.Hour + coalition.DefaultFollowUpDelay)
	require.NoError(t, f.co.Polls.RunFollowUps(ctx))
	asked := f.ofKind("follow_up")
	require.Len(t, asked, 2)
	assert.Contains(t, asked[0].Text, "— "+messages.Isolate("مؤسسة Dialogue Centre"))
	st, err := f.co.Polls.Attendance(ctx, f.actor(x.rep), c)
	require.NoError(t, err)
	require.NotNil(t, st.Poll)
	assert.Equal(t, c.Organiser, st.Poll.Organiser)
	_, err = f.co.Polls.Answer(ctx, f.actor(people[0]), st.Poll.ID, 0)
	require.NoError(t, err)
	n, err := f.co.Institutions.Numbers(ctx, f.actor(x.rep), x.inst.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, n.Answers)
	_, err = f.co.Polls.Attendance(ctx, f.actor(f.person(store.RoleCitizen)), c)
	assert.ErrorIs(t, err, coalition.ErrNotAllowed)
}
