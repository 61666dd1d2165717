package coalition_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot/coalition"
	"mobilise/messages"
	"mobilise/store"
)

// TestTextsWithoutArabicAreRefusedAsTexts: a campaign's title or a poll's
// question with no Arabic letter is refused with the reason for a text,
// which the dashboard shows as it is, not with the one for a name.
func TestTextsWithoutArabicAreRefusedAsTexts(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	coord := f.person(store.RoleCoordinator)
	var inv *coalition.InvalidError
	_, err := f.co.Campaigns.Create(ctx, f.actor(coord), coalition.Draft{Code: "walk", TitleAR: "Peace walk", CallAR: "انضمّوا",
		Kind: store.KindPledge, StartAt: f.clock()})
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "title_ar", inv.Field)
	assert.Equal(t, messages.ErrNeedArabic, inv.Reason)

	f.campaign("vigil", store.KindPledge, 10)
	latin := "Vigil"
	_, err = f.co.Campaigns.Edit(ctx, f.actor(coord), "vigil", coalition.Change{TitleAR: &latin})
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, messages.ErrNeedArabic, inv.Reason)

	d := coalition.PollDraft{QuestionAR: "Will you come?", Options: []store.PollOption{{AR: "نعم"}, {AR: "لا"}}, Audience: governorate("jenin")}
	require.ErrorAs(t, f.co.Polls.CheckPoll(d), &inv)
	assert.Equal(t, "question_ar", inv.Field)
	assert.Equal(t, messages.ErrNeedArabic, inv.Reason)
}
