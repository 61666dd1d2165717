package export

import (
	"bytes"
	"context"
	"encoding/csv"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/store"
)

func TestCSVCell(t *testing.T) {
	for _, hostile := range []string{"=1+1", "+970599", "-2+3", "@SUM(A1)", "\t=1", "\r=1"} {
		assert.Equal(t, "'"+hostile, Cell(hostile), "%q", hostile)
	}
	for _, plain := range []string{"", "Nour", "سمر", "٣", "'=already", " =1", "1=1", "telegram:1"} {
		assert.Equal(t, plain, Cell(plain), "%q", plain)
	}
}

func TestWrite(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "mobilise.db"))
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, st.Close()) })
	ctx := context.Background()
	c, _, err := st.EnsureContact(ctx, bot.MustParseAddress("telegram:1"), "Nour", "ar")
	require.NoError(t, err)
	camp := &store.Campaign{Code: "olive", TitleAR: "زيتون", CallAR: "انضموا", Kind: store.KindPledge, StartAt: time.Now()}
	require.NoError(t, st.CreateCampaign(ctx, camp))
	_, err = st.AddPledge(ctx, store.Pledge{CampaignID: camp.ID, ContactID: c.ID, Channel: bot.Telegram, Governorate: "gaza", Lang: "ar"})
	require.NoError(t, err)

	total, err := Rows(ctx, st)
	require.NoError(t, err)
	assert.Equal(t, 2, total, "one campaign, one pledge")

	for _, personal := range []bool{true, false} {
		var buf bytes.Buffer
		rows := 0
		n, err := Write(ctx, st, Pledges, personal, &buf, func() { rows++ })
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		assert.Equal(t, 1, rows)
		require.True(t, strings.HasPrefix(buf.String(), "\uFEFF"), "byte-order mark")
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\uFEFF"))).ReadAll()
		require.NoError(t, err)
		require.Len(t, recs, 2)
		assert.Equal(t, "olive", recs[1][1])
		assert.Equal(t, personal, strings.Contains(buf.String(), "Nour"), "names only with personal data")
		assert.Equal(t, personal, strings.Contains(buf.String(), "telegram:1"), "addresses only with personal data")
	}
	var buf bytes.Buffer
	n, err := Write(ctx, st, Institutions, false, &buf, nil)
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Contains(t, buf.String(), "name_ar", "a file with no rows still has its header")
	_, err = Write(ctx, st, "contacts.csv", true, &buf, nil)
	assert.ErrorIs(t, err, ErrUnknownFile)
}

// One institution's export holds its own: the polls it asked with the
// answers credited to it, and its list; the coalition's export has no list.
func TestScopeOfAnInstitution(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "mobilise.db"))
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, st.Close()) })
	ctx := context.Background()
	inst := &store.Institution{NameAR: "مركز الحوار", NameEN: "Dialogue Centre", Status: store.InstitutionApproved}
	require.NoError(t, st.CreateInstitution(ctx, inst))
	inst, err = st.AssignInstitutionCode(ctx, inst.ID)
	require.NoError(t, err)
	ours := &store.Poll{Kind: store.PollQuestion, QuestionAR: "هل تأتون؟", Options: []store.PollOption{{AR: "نعم"}, {AR: "لا"}},
		Audience: store.Audience{Kind: store.AudienceEveryone, Institution: inst.ID}, Organiser: store.OrganisedBy(inst.ID), BroadcastID: 1}
	theirs := &store.Poll{Kind: store.PollQuestion, QuestionAR: "سؤال الائتلاف", Options: []store.PollOption{{AR: "نعم"}, {AR: "لا"}},
		Audience: store.Audience{Kind: store.AudienceEveryone}, BroadcastID: 2}
	for _, p := range []*store.Poll{ours, theirs} {
		require.NoError(t, st.CreatePoll(ctx, p))
	}
	for i, name := range []string{"Nour", "Huda"} {
		c, _, err := st.EnsureContact(ctx, bot.Address{Channel: bot.Telegram, ID: "7" + string(rune('0'+i))}, name, "ar")
		require.NoError(t, err)
		_, err = st.AddSupporter(ctx, store.Support{InstitutionID: inst.ID, ContactID: c.ID, Via: store.ViaPoll}, false)
		require.NoError(t, err)
		for _, p := range []*store.Poll{ours, theirs} {
			require.NoError(t, st.MarkAsked(ctx, p.ID, []uint64{c.ID}, time.Now()))
			credit := uint64(0)
			if p == ours {
				credit = inst.ID
			}
			_, err = st.AnswerPoll(ctx, store.PollAnswer{PollID: p.ID, ContactID: c.ID, Option: i, At: time.Now(), Institution: credit})
			require.NoError(t, err)
		}
	}

	scope := Scope{Institution: inst}
	assert.Equal(t, append(Files(), Supporters), scope.Files())
	total, err := scope.Rows(ctx, st)
	require.NoError(t, err)
	assert.Equal(t, 1+2+2+2, total, "its record, its poll's two options, their two answers, its two supporters")
	read := func(sc Scope, name string) [][]string {
		var buf bytes.Buffer
		_, err := sc.Write(ctx, st, name, true, &buf, nil)
		require.NoError(t, err)
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\uFEFF"))).ReadAll()
		require.NoError(t, err)
		return recs
	}
	polls := read(scope, Polls)
	require.Len(t, polls, 3, "header and its poll's two options")
	assert.Equal(t, "هل تأتون؟", polls[1][3])
	assert.Equal(t, inst.Code, polls[1][14], "organisers")
	answers := read(scope, PollAnswers)
	require.Len(t, answers, 3)
	sups := read(scope, Supporters)
	require.Len(t, sups, 3)
	assert.ElementsMatch(t, []string{"Nour", "Huda"}, []string{sups[1][1], sups[2][1]})
	assert.Len(t, read(Scope{}, Polls), 5, "the coalition's export has every poll")
	_, err = Write(ctx, st, Supporters, true, &bytes.Buffer{}, nil)
	assert.ErrorIs(t, err, ErrUnknownFile, "and no list of an institution's")
}
