package chat_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/store"
)

func TestOnboardingArabic(t *testing.T) {
	h := newTranscript(t)
	h.check("onboarding_ar.txt")
	c, err := h.st.ContactByAddress(context.Background(), bot.MustParseAddress("console:user"))
	require.NoError(t, err)
	assert.Equal(t, "en", c.Lang, "switched to English at the end")
	assert.True(t, c.Consent)
	assert.False(t, c.Stopped, "/start after ايقاف resumes messages")
	assert.Equal(t, "ramallah", c.Governorate)
}

func TestOnboardingEnglish(t *testing.T) {
	h := newTranscript(t)
	h.check("onboarding_en.txt")
	c, err := h.st.ContactByAddress(context.Background(), bot.MustParseAddress("console:user"))
	require.NoError(t, err)
	assert.Equal(t, "en", c.Lang)
	assert.True(t, c.Consent, "the second /start asked for consent again and got yes")
	assert.Empty(t, c.Governorate)
}

func TestRegisterInstitution(t *testing.T) {
	h := newTranscript(t)
	h.check("register_ar.txt")
	insts, err := h.st.Institutions(context.Background(), "")
	require.NoError(t, err)
	require.Len(t, insts, 1)
	inst := insts[0]
	assert.Equal(t, store.InstitutionApproved, inst.Status)
	assert.Equal(t, "مركز السلام للوساطة المجتمعية", inst.NameAR)
	assert.Equal(t, "0599123456", inst.Phone)
	rep, err := h.st.ContactByAddress(context.Background(), bot.MustParseAddress("console:rep"))
	require.NoError(t, err)
	assert.Equal(t, store.RoleMember, rep.Role)
	assert.Equal(t, inst.ID, rep.InstitutionID)
	sess, err := h.st.Session(context.Background(), rep.ID)
	if err == nil {
		assert.Empty(t, sess.Flow, "the cancelled second registration left nothing behind")
		assert.Empty(t, sess.Data)
	}
}

func TestCampaignFlow(t *testing.T) {
	h := newTranscript(t)
	h.check("campaign_en.txt")
	c, err := h.st.CampaignByCode(context.Background(), "peacewalk")
	require.NoError(t, err)
	n, err := h.st.Counts(context.Background(), c.ID)
	require.NoError(t, err)
	assert.Equal(t, store.Counts{Pledges: 3, Signups: 1}, n)
	assert.False(t, c.TargetReachedAt.IsZero())
}

func TestCampaignFlowArabic(t *testing.T) {
	h := newTranscript(t)
	h.check("campaign_ar.txt")
	c, err := h.st.CampaignByCode(context.Background(), "salam")
	require.NoError(t, err)
	assert.Equal(t, 12, c.Target)
	n, err := h.st.Counts(context.Background(), c.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, n.Pledges)
}

func TestBadInput(t *testing.T) {
	h := newTranscript(t)
	h.check("bad_input.txt")
	insts, err := h.st.Institutions(context.Background(), "")
	require.NoError(t, err)
	assert.Empty(t, insts, "a cancelled registration stores nothing")
	cs, err := h.st.Campaigns(context.Background())
	require.NoError(t, err)
	assert.Empty(t, cs)
}

func TestRegisterInstitutionInEnglishAndRejection(t *testing.T) {
	h := newTranscript(t)
	h.check("register_en.txt")
	insts, err := h.st.Institutions(context.Background(), "")
	require.NoError(t, err)
	require.Len(t, insts, 1)
	assert.Equal(t, store.InstitutionRejected, insts[0].Status)
	assert.Equal(t, []string{"gaza", "khan_yunis"}, insts[0].Governorates)
	rep, err := h.st.ContactByAddress(context.Background(), bot.MustParseAddress("console:rep"))
	require.NoError(t, err)
	assert.Contains(t, []store.Role{"", store.RoleCitizen}, rep.Role, "a rejected applicant stays a citizen")
}

func TestCampaignLifecycle(t *testing.T) {
	h := newTranscript(t)
	h.check("lifecycle_en.txt")
	c, err := h.st.CampaignByCode(context.Background(), "vigil")
	require.NoError(t, err)
	assert.False(t, c.Closed, "reopened")
	assert.Equal(t, time.Date(2026, 12, 21, 16, 30, 0, 0, time.UTC), c.EventAt.UTC(), "moved to 18:30 in Hebron")
	n, err := h.st.Counts(context.Background(), c.ID)
	require.NoError(t, err)
	assert.Equal(t, store.Counts{Pledges: 0, Signups: 1}, n, "the pledge withdrawn, the sign-up kept")
}

func TestCampaignLifecycleArabic(t *testing.T) {
	h := newTranscript(t)
	h.check("lifecycle_ar.txt")
	c, err := h.st.CampaignByCode(context.Background(), "vigil")
	require.NoError(t, err)
	assert.False(t, c.Closed)
	assert.Equal(t, time.Date(2026, 12, 21, 16, 30, 0, 0, time.UTC), c.EventAt.UTC(), "typed in Arabic-Indic digits")
}

func TestRemindersInWords(t *testing.T) {
	for _, name := range []string{"remind_en.txt", "remind_ar.txt"} {
		t.Run(name, func(t *testing.T) {
			h := newTranscript(t)
			h.check(name)
			rs, err := h.st.Reminders(context.Background())
			require.NoError(t, err)
			require.GreaterOrEqual(t, len(rs), 2)
			for _, r := range rs {
				require.NotNil(t, r.Schedule, "kept as a schedule, not guessed into cron")
				assert.Empty(t, r.Schedule.Cron)
			}
		})
	}
}
