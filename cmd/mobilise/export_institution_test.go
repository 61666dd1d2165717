package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/store"
)

// institutionsSeed adds two member institutions with a joint campaign
// and a campaign each, their supporters and credited pledges.
func institutionsSeed(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	x := &store.Institution{NameAR: "مركز الحوار", NameEN: "Dialogue Centre", Field: "reconciliation", Status: store.InstitutionApproved, Phone: "0599000001"}
	y := &store.Institution{NameAR: "منتدى السلام", NameEN: "Peace Forum", Field: "youth", Status: store.InstitutionApproved, Phone: "0599000002"}
	for _, inst := range []*store.Institution{x, y} {
		require.NoError(t, st.CreateInstitution(ctx, inst))
		got, err := st.AssignInstitutionCode(ctx, inst.ID)
		require.NoError(t, err)
		*inst = *got
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	joint := &store.Campaign{Code: "together", TitleAR: "معًا", Kind: store.KindPledge, StartAt: start, Organiser: store.OrganisedBy(x.ID, y.ID)}
	theirs := &store.Campaign{Code: "forumonly", TitleAR: "للمنتدى", Kind: store.KindPledge, StartAt: start, Organiser: store.OrganisedBy(y.ID)}
	for _, c := range []*store.Campaign{joint, theirs} {
		require.NoError(t, st.CreateCampaign(ctx, c))
	}
	at := time.Date(2026, 2, 3, 10, 11, 12, 0, time.UTC)
	for i, tc := range []struct {
		inst   *store.Institution
		name   string
		camp   *store.Campaign
		credit uint64
	}{{x, "Xena Supporter", joint, x.ID}, {y, "Yusuf Supporter", joint, y.ID}, {y, "Yara Supporter", theirs, y.ID}} {
		c, _, err := st.EnsureContact(ctx, bot.Address{Channel: bot.Telegram, ID: "90" + string(rune('0'+i))}, tc.name, "ar")
		require.NoError(t, err)
		_, err = st.AddSupporter(ctx, store.Support{InstitutionID: tc.inst.ID, ContactID: c.ID, Via: store.ViaPledge, Governorate: "gaza", At: at}, false)
		require.NoError(t, err)
		_, err = st.AddPledge(ctx, store.Pledge{CampaignID: tc.camp.ID, ContactID: c.ID, At: at, Channel: "telegram", Governorate: "gaza", Institution: tc.credit})
		require.NoError(t, err)
	}
}

func TestExportOfOneInstitution(t *testing.T) {
	st, data := opsStore(t)
	opsSeed(t, st)
	institutionsSeed(t, st)
	require.NoError(t, st.Close())

	for _, personal := range []bool{true, false} {
		out := filepath.Join(t.TempDir(), "export")
		args := []string{"export", "--institution", "dialoguecentre", "--dir", out, "--data", data}
		if !personal {
			args = append(args, "--no-personal")
		}
		code, stdout, stderr := opsRun(t, args, nil)
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stdout, filepath.Join(out, "supporters.csv")+": 1 rows")

		insts := readCSV(t, filepath.Join(out, "institutions.csv"))
		assert.Equal(t, []string{"Dialogue Centre"}, column(t, insts, "name_en"), "its own record only")
		camps := readCSV(t, filepath.Join(out, "campaigns.csv"))
		assert.Equal(t, []string{"together"}, column(t, camps, "code"), "the campaigns it organises")
		assert.Equal(t, []string{"1"}, column(t, camps, "pledges"), "its share of the joint campaign")
		assert.Equal(t, []string{"dialoguecentre peaceforum"}, column(t, camps, "organisers"))
		pledges := readCSV(t, filepath.Join(out, "pledges.csv"))
		require.Len(t, pledges, 2, "only the pledge credited to it")
		sups := readCSV(t, filepath.Join(out, "supporters.csv"))
		require.Len(t, sups, 2)
		assert.Equal(t, []string{"pledge"}, column(t, sups, "via"))

		var all strings.Builder
		files, err := filepath.Glob(filepath.Join(out, "*.csv"))
		require.NoError(t, err)
		assert.Len(t, files, 7, "the six files and supporters.csv")
		for _, f := range files {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			all.Write(b)
		}
		for _, other := range []string{"Yusuf", "Yara", "forumonly", "0599000002", "مركز السلام", opsPersonName} {
			assert.NotContains(t, all.String(), other, "nothing of another institution or the coalition's own")
		}
		if personal {
			assert.Equal(t, []string{"Xena Supporter"}, column(t, sups, "name"))
		} else {
			assert.NotContains(t, all.String(), "Xena")
			assert.NotContains(t, all.String(), "0599000001")
			assert.Equal(t, []string{"2026-02-03"}, column(t, sups, "date"))
		}
	}

	code, _, stderr := opsRun(t, []string{"export", "--institution", "nosuch", "--data", data, "--dir", t.TempDir()}, nil)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `no institution with the code "nosuch"`)
}

func TestInstitutionPoster(t *testing.T) {
	st, data := opsStore(t)
	institutionsSeed(t, st)
	require.NoError(t, st.Close())
	out := filepath.Join(t.TempDir(), "posters")
	code, stdout, stderr := opsRun(t, []string{"poster", "--institution", "peaceforum", "--out", out,
		"--telegram-bot", "salam_bot", "--whatsapp", "+970599123456"}, map[string]string{"MOBILISE_DATA": data})
	require.Equal(t, 0, code, stderr)
	const tg = "https://t.me/salam_bot?start=i_peaceforum"
	const wa = "https://wa.me/970599123456?text=start%20i_peaceforum"
	assert.Contains(t, stdout, "Telegram: "+tg)
	assert.ElementsMatch(t, []string{tg, wa}, posterQRs(t, filepath.Join(out, "poster-institution-peaceforum.png")), "the codes open its invitation")

	code, _, stderr = opsRun(t, []string{"poster", "--institution", "nosuch", "--out", out, "--telegram-bot", "salam_bot"}, map[string]string{"MOBILISE_DATA": data})
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "peaceforum", "the codes there are are listed")
}
