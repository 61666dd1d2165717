package coalition_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/coalition"
	"mobilise/store"
)

// An institution's people have the posters of the campaigns it organises,
// and of no other.
func TestInstitutionPosters(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, coalition.WithPosters(t.TempDir(), "ائتلاف السلم الأهلي", "Civil Peace Coalition"),
		coalition.WithLinker(bot.Telegram, linker("https://t.me/salam_bot?start=")))
	x, y := f.institution("Dialogue Centre"), f.institution("Peace Forum")
	ours := f.mustOrgCampaign(f.actor(x.rep), store.OrganisedBy(x.inst.ID))
	coalitions := f.campaign("walk", store.KindPledge, 0)

	files, err := f.co.Posters.Make(ctx, f.actor(x.rep), ours.Code)
	require.NoError(t, err)
	assert.NotEmpty(t, files.PDF)
	_, err = f.co.Posters.Make(ctx, f.actor(y.rep), ours.Code)
	assert.ErrorIs(t, err, coalition.ErrNotAllowed, "another institution's campaign")
	_, err = f.co.Posters.Request(ctx, f.actor(x.rep), coalitions.Code)
	assert.ErrorIs(t, err, coalition.ErrNotAllowed, "the coalition's own campaign")
	_, err = f.co.Posters.Request(ctx, f.actor(f.person(store.RoleCitizen)), ours.Code)
	assert.ErrorIs(t, err, coalition.ErrNotAllowed)
	_, err = f.co.Posters.Make(ctx, f.actor(f.person(store.RoleCoordinator)), ours.Code)
	assert.NoError(t, err, "the coalition's staff have any")
}
