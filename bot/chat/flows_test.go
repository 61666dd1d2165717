package chat_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/bottest"
	"mobilise/bot/schedule"
	"mobilise/messages"
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

// A reminder due in quiet hours waits for their end: the summary, the
// confirmation and the list say when it goes out, and that is when its
// messages may leave.
func TestReminderInQuietHoursSaysWhenItGoesOut(t *testing.T) {
	quiet := schedule.DefaultQuietHours()
	w := newWorld(t, bottest.Config{Quiet: &quiet})
	w.people("nablus", "p1")
	w.onboard("admin")
	w.script("admin", "/remind", "1", "تذكير الليل", "skip", "1", "2")
	summary := w.say("admin", "every day at 10:00 pm")

	loc, err := time.LoadLocation("Asia/Hebron")
	require.NoError(t, err)
	words := w.co().Words()
	due := time.Date(2026, 12, 7, 22, 0, 0, 0, loc) // Monday, the first firing
	out := time.Date(2026, 12, 8, 7, 0, 0, 0, loc)
	when := w.cat.Text("en", messages.RemindQuietTime, map[string]any{"At": words.Time("en", due), "Until": words.Time("en", out)})
	assert.Contains(t, summary, "• "+when, "the summary gives the time it goes out: %s", summary)
	assert.Contains(t, w.say("admin", "1"), when, "so does the confirmation")
	assert.Contains(t, w.say("admin", "/remind list"), when, "and the list")

	w.setNow(due)
	require.NoError(t, w.co().Reminders.FireDue(context.Background()))
	sent := w.pending(true)
	require.NotEmpty(t, sent)
	for _, e := range sent {
		assert.True(t, w.co().Sending.Hold(due, &e).Equal(out), "held until %s", out)
	}
}

// /mydata left out the contact details a person gave when applying for an
// institution once it was decided, and the campaigns they wait to hear open.
func TestMyDataShowsApplicationContactsAndWatches(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, bottest.Config{})
	rep := w.onboard("rep")
	require.NoError(t, w.st.CreateInstitution(ctx, &store.Institution{NameAR: "مركز الحوار", NameEN: "Dialogue Centre", Field: "education",
		Governorates: []string{"gaza"}, ContactPerson: "Omar Haddad", Phone: "0599123456", Status: store.InstitutionApproved, ApplicantID: rep.ID}))
	later := &store.Campaign{Code: "later", TitleAR: "لاحقًا", TitleEN: "Later on", CallAR: "انضموا", Kind: store.KindPledge,
		StartAt: w.clock().Add(48 * time.Hour)}
	require.NoError(t, w.st.CreateCampaign(ctx, later))
	_, _, err := w.co().Campaigns.Watch(ctx, w.actorOf("rep"), "later")
	require.NoError(t, err)

	got := w.say("rep", "/mydata")
	assert.Contains(t, got, w.cat.Text("en", messages.MyDataApplicationContact, map[string]any{
		"Name": "Dialogue Centre", "Details": messages.Isolate("Omar Haddad") + ", " + messages.Isolate("0599123456")}), got)
	assert.Contains(t, got, w.cat.Text("en", messages.MyDataWatching, map[string]any{"Titles": "Later on"}), got)

	w.script("rep", "/forget", "1")
	w.onboard("rep")
	got = w.say("rep", "/mydata")
	assert.NotContains(t, got, "0599123456", "forgotten with the person: %s", got)
	assert.NotContains(t, got, "Later on", got)
}

// A schedule refused for lacking its time or its days is completed by the
// answer to that question: "every 2 days", then "9:00 am", is every 2 days
// at 9:00, not a new phrase refused for having no days.
func TestScheduleCompletedByTheAnswerToItsQuestion(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	w.people("nablus", "p1")
	w.onboard("admin")
	for _, tc := range []struct{ first, then, want string }{
		{"every 2 days", "9:00 am", "every 2 days at 9:00 am"},
		{"at 6 pm", "every friday", "every Friday at 6:00 pm"},
	} {
		w.script("admin", "/remind", "1", "تذكير", "skip", "1", "2")
		asked := w.say("admin", tc.first)
		assert.NotContains(t, asked, "Check the reminder", "%q alone is refused", tc.first)
		summary := w.say("admin", tc.then)
		assert.Contains(t, summary, "Check the reminder", "%q completes %q", tc.then, tc.first)
		assert.Contains(t, summary, tc.want)
		w.say("admin", "/cancel")
	}
	// an answer that is a whole phrase of its own is read as it is
	w.script("admin", "/remind", "1", "تذكير", "skip", "1", "2", "every 2 days")
	assert.Contains(t, w.say("admin", "every day at 8:00 pm"), "every day at 8:00 pm")
}
