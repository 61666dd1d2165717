package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mobilise/bot"

	"github.com/makiuchi-d/gozxing"
	multiqr "github.com/makiuchi-d/gozxing/multi/qrcode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/store"
)

// posterCampaign adds to st an event campaign in both languages, created by
// the representative of an approved institution.
func posterCampaign(t *testing.T, st *store.Store) {
	t.Helper()
	inst := &store.Institution{NameAR: "مركز السلام للحوار", NameEN: "Peace Center for Dialogue", Field: "reconciliation", Status: store.InstitutionApproved}
	require.NoError(t, st.CreateInstitution(context.Background(), inst))
	rep, _, err := st.EnsureContact(context.Background(), bot.MustParseAddress("telegram:321"), "Rana", "ar")
	require.NoError(t, err)
	_, err = st.UpdateContact(context.Background(), rep.ID, func(c *store.Contact) error { c.InstitutionID = inst.ID; return nil })
	require.NoError(t, err)
	require.NoError(t, st.CreateCampaign(context.Background(), &store.Campaign{
		Code: "walk2026", Kind: store.KindEvent, CreatedBy: rep.ID,
		TitleAR: "مسيرة السلم الأهلي", CallAR: "انضموا إلينا في مسيرة صامتة من دوار الشهداء.",
		TitleEN: "Civil peace march", CallEN: "Join us for a silent march from Martyrs' Square.",
		StartAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), EventAt: time.Date(2026, 3, 13, 14, 30, 0, 0, time.UTC),
		EventPlace: "دوار الشهداء، نابلس",
	}))
}

// posterQRs decodes every QR code in a PNG file.
func posterQRs(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(data))
	require.NoError(t, err)
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	require.NoError(t, err)
	results, err := multiqr.NewQRCodeMultiReader().DecodeMultiple(bmp, map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_TRY_HARDER: true})
	require.NoError(t, err)
	var out []string
	for _, r := range results {
		out = append(out, r.GetText())
	}
	return out
}

func TestPoster(t *testing.T) {
	st, data := opsStore(t)
	opsSeed(t, st)
	posterCampaign(t, st)
	require.NoError(t, st.Close())
	out := filepath.Join(t.TempDir(), "posters")
	env := map[string]string{"MOBILISE_DATA": data}

	// the code first, then the flags; the number as people write it
	code, stdout, stderr := opsRun(t, []string{"poster", "WALK2026", "--out", out,
		"--telegram-bot", "@salam_bot", "--whatsapp", "+970 599-123456"}, env)
	require.Equal(t, 0, code, stderr)
	const tg = "https://t.me/salam_bot?start=walk2026"
	const wa = "https://wa.me/970599123456?text=start%20walk2026"
	for _, name := range []string{"poster-walk2026.pdf", "poster-walk2026.png"} {
		fi, err := os.Stat(filepath.Join(out, name))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm(), "%s is for everyone to read", name)
		assert.Contains(t, stdout, filepath.Join(out, name))
	}
	assert.Contains(t, stdout, "Telegram: "+tg)
	assert.Contains(t, stdout, "WhatsApp: "+wa)
	pdfData, err := os.ReadFile(filepath.Join(out, "poster-walk2026.pdf"))
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(pdfData, []byte("%PDF-")))
	assert.ElementsMatch(t, []string{tg, wa}, posterQRs(t, filepath.Join(out, "poster-walk2026.png")))
	leftovers, err := filepath.Glob(filepath.Join(out, ".poster-*"))
	require.NoError(t, err)
	assert.Empty(t, leftovers, "no temporary files left behind")

	// only WhatsApp; the coalition from the environment
	env["MOBILISE_COALITION_AR"] = "ائتلاف نابلس"
	code, stdout, stderr = opsRun(t, []string{"poster", "--out", out, "--whatsapp", "970599123456", "peace"}, env)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "Telegram: not on the poster")
	assert.Equal(t, []string{"https://wa.me/970599123456?text=start%20peace"}, posterQRs(t, filepath.Join(out, "poster-peace.png")))
}

func TestPosterWhileTheBotRuns(t *testing.T) {
	st, data := opsStore(t)
	posterCampaign(t, st)
	runningBot(t, st, data)
	api := newFakeBotAPI(t, true)
	out := t.TempDir()
	env := map[string]string{"MOBILISE_DATA": data, "TELEGRAM_TOKEN": badToken, "TELEGRAM_API_URL": api.URL}

	// the database comes through the admin socket, the username from getMe
	code, stdout, stderr := opsRun(t, []string{"poster", "walk2026", "--out", out}, env)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, []string{"getMe"}, api.calls())
	assert.Equal(t, []string{"https://t.me/mobilise_test_bot?start=walk2026"}, posterQRs(t, filepath.Join(out, "poster-walk2026.png")))
	assert.Contains(t, stdout, "WhatsApp: not on the poster")
	assert.NotContains(t, stdout+stderr, badToken)
}

func TestPosterErrors(t *testing.T) {
	st, data := opsStore(t)
	opsSeed(t, st)
	require.NoError(t, st.Close())
	env := map[string]string{"MOBILISE_DATA": data}
	file := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	rejected := newFakeBotAPI(t, false)

	cases := []struct {
		label string
		args  []string
		env   map[string]string
		code  int
		want  string
	}{
		{label: "unknown code", args: []string{"poster", "nope", "--telegram-bot", "salam_bot"}, code: 1,
			want: `there is no campaign with the code "nope"; the codes are: peace, quiet`},
		{label: "no links", args: []string{"poster", "peace"}, code: 1,
			want: "give --telegram-bot NAME (or set TELEGRAM_TOKEN), or --whatsapp"},
		{label: "unwritable directory", args: []string{"poster", "peace", "--telegram-bot", "salam_bot", "--out", filepath.Join(file, "sub")}, code: 1,
			want: "cannot write the poster to " + filepath.Join(file, "sub")},
		{label: "bad username", args: []string{"poster", "peace", "--telegram-bot", "no way"}, code: 1,
			want: "a Telegram username has"},
		{label: "bad number", args: []string{"poster", "peace", "--whatsapp", "0599-12"}, code: 1,
			want: "international form"},
		{label: "rejected token", args: []string{"poster", "peace"}, code: 1,
			env:  map[string]string{"TELEGRAM_TOKEN": badToken, "TELEGRAM_API_URL": rejected.URL},
			want: "asking Telegram for the bot's username"},
		{label: "no code", args: []string{"poster"}, code: 2, want: "Usage: mobilise poster"},
		{label: "two codes", args: []string{"poster", "peace", "quiet"}, code: 2, want: "Usage: mobilise poster"},
		{label: "no database", args: []string{"poster", "peace", "--data", filepath.Join(t.TempDir(), "none")}, code: 1,
			want: "no database at"},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			e := map[string]string{}
			for k, v := range env {
				e[k] = v
			}
			for k, v := range tc.env {
				e[k] = v
			}
			out := t.TempDir()
			args := tc.args
			if tc.label != "unwritable directory" {
				args = append(args, "--out", out)
			}
			code, stdout, stderr := opsRun(t, args, e)
			assert.Equal(t, tc.code, code, stderr)
			assert.Contains(t, stderr, tc.want)
			assert.NotContains(t, stderr, badToken)
			if tc.code != 0 {
				assert.NotContains(t, stdout, "poster-", "no file announced")
				entries, err := os.ReadDir(out)
				require.NoError(t, err)
				assert.Empty(t, entries, "nothing written")
			}
		})
	}
}
