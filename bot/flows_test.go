package bot_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/store"
)

func TestOnboardingArabic(t *testing.T) {
	h := newHarness(t)
	h.checkTranscript("onboarding_ar.txt")
	c, err := h.st.ContactByAddress("console:user")
	require.NoError(t, err)
	assert.Equal(t, "en", c.Lang, "switched to English at the end")
	assert.True(t, c.Consent)
	assert.False(t, c.Stopped, "/start after ايقاف resumes messages")
	assert.Equal(t, "ramallah", c.Governorate)
}

func TestOnboardingEnglish(t *testing.T) {
	h := newHarness(t)
	h.checkTranscript("onboarding_en.txt")
	c, err := h.st.ContactByAddress("console:user")
	require.NoError(t, err)
	assert.Equal(t, "en", c.Lang)
	assert.True(t, c.Consent, "the second /start asked for consent again and got yes")
	assert.Empty(t, c.Governorate)
}

func TestRegisterInstitution(t *testing.T) {
	h := newHarness(t)
	h.checkTranscript("register_ar.txt")
	insts, err := h.st.Institutions("")
	require.NoError(t, err)
	require.Len(t, insts, 1)
	inst := insts[0]
	assert.Equal(t, store.InstitutionApproved, inst.Status)
	assert.Equal(t, "مركز السلام للوساطة المجتمعية", inst.NameAR)
	assert.Equal(t, "0599123456", inst.Phone)
	rep, err := h.st.ContactByAddress("console:rep")
	require.NoError(t, err)
	assert.Equal(t, store.RoleMember, rep.Role)
	assert.Equal(t, inst.ID, rep.InstitutionID)
	sess, err := h.st.Session(rep.ID)
	require.NoError(t, err)
	assert.Empty(t, sess.Flow, "the cancelled second registration left nothing behind")
	assert.Empty(t, sess.Data)
}

func TestCampaignFlow(t *testing.T) {
	h := newHarness(t)
	h.checkTranscript("campaign_en.txt")
	c, err := h.st.CampaignByCode("peacewalk")
	require.NoError(t, err)
	n, err := h.st.Counts(c.ID)
	require.NoError(t, err)
	assert.Equal(t, store.Counts{Pledges: 3, Signups: 1}, n)
	assert.False(t, c.TargetReachedAt.IsZero())
}

func TestBadInput(t *testing.T) {
	h := newHarness(t)
	h.checkTranscript("bad_input.txt")
	insts, err := h.st.Institutions("")
	require.NoError(t, err)
	assert.Empty(t, insts, "a cancelled registration stores nothing")
	cs, err := h.st.Campaigns()
	require.NoError(t, err)
	assert.Empty(t, cs)
}

func TestRegisterInstitutionInEnglishAndRejection(t *testing.T) {
	h := newHarness(t)
	h.checkTranscript("register_en.txt")
	insts, err := h.st.Institutions("")
	require.NoError(t, err)
	require.Len(t, insts, 1)
	assert.Equal(t, store.InstitutionRejected, insts[0].Status)
	assert.Equal(t, []string{"gaza", "khan_yunis"}, insts[0].Governorates)
	rep, err := h.st.ContactByAddress("console:rep")
	require.NoError(t, err)
	assert.Equal(t, store.RoleCitizen, h.roleOf(rep), "a rejected applicant stays a citizen")
}

func TestCampaignFlowArabic(t *testing.T) {
	h := newHarness(t)
	h.checkTranscript("campaign_ar.txt")
	c, err := h.st.CampaignByCode("salam")
	require.NoError(t, err)
	assert.Equal(t, 12, c.Target)
	n, err := h.st.Counts(c.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, n.Pledges)
}
