package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

func TestExport(t *testing.T) {
	st, data := opsStore(t)
	opsSeed(t, st)
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
	assert.Equal(t, []string{opsInstPhone, ""}, column(t, insts, "phone"))
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
}

func TestExportWithoutPersonalData(t *testing.T) {
	st, data := opsStore(t)
	opsSeed(t, st)
	require.NoError(t, st.Close())
	out := filepath.Join(t.TempDir(), "export")

	code, _, stderr := opsRun(t, []string{"export", "--no-personal", "--dir", out, "--data", data}, nil)
	require.Equal(t, 0, code, stderr)
	var all strings.Builder
	for _, name := range []string{"institutions.csv", "campaigns.csv", "pledges.csv", "signups.csv"} {
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
