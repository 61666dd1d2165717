package chat_test

import (
	"context"
	mrand "math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/coalition"
	"mobilise/messages"
	"mobilise/store"
)

// TestBroadcastPosterTranscript: a coordinator attaches a poster to a
// broadcast at the step that asks for a file, after a file that is no
// picture is refused; the preview names it, the test copy carries it, the
// admin asked to approve gets it with the request, and every recipient
// with the text as its caption. The terminal cannot show a file, so a line
// names it where it would be.
func TestBroadcastPosterTranscript(t *testing.T) {
	h := newTranscript(t)
	files, err := store.OpenMediaFiles(filepath.Join(t.TempDir(), "media"), store.DefaultMaxMedia)
	require.NoError(t, err)
	h.media, h.threshold = files, 1
	// verification codes from a seeded source, the same at every run
	h.options = []coalition.Option{coalition.WithRandom(mrand.NewChaCha8([32]byte{'p', 'o', 's', 't', 'e', 'r'}))}
	h.check("broadcast_poster_en.txt")

	ctx := context.Background()
	all, err := h.st.Broadcasts(ctx)
	require.NoError(t, err)
	require.Len(t, all, 1)
	bc := all[0]
	require.NotNil(t, bc.Media, "the broadcast carries the poster")
	assert.Equal(t, bot.MediaImage, bc.Media.Kind)
	assert.Equal(t, "image/png", bc.Media.MIME)
	assert.Equal(t, "walk-poster.png", bc.Media.Name)
	assert.True(t, files.Has(bc.Media.SHA256), "kept in the media directory")
	assert.Equal(t, store.BroadcastDone, bc.Status)
	list, err := files.List()
	require.NoError(t, err)
	assert.Len(t, list, 1, "the refused file was not kept")
}

// TestFileQuestionTakesNo: at the question of a file, «بلاش» and «لا»
// go on without one, as at any optional question; they neither leave the
// wizard nor are refused as no file.
func TestFileQuestionTakesNo(t *testing.T) {
	h := newTranscript(t)
	files, err := store.OpenMediaFiles(filepath.Join(t.TempDir(), "media"), store.DefaultMaxMedia)
	require.NoError(t, err)
	h.media = files
	cat, err := messages.New()
	require.NoError(t, err)
	got := h.check("media_skip_ar.txt")
	assert.Equal(t, 1, strings.Count(got, cat.Text("ar", messages.CancelDone, nil)), "no wizard was left but by the /cancel typed")
	assert.NotContains(t, got, cat.Text("ar", messages.MediaNeedFile, nil), "«لا» is not refused")
	assert.Contains(t, got, "راجع الرسالة قبل إرسالها", "the broadcast goes on to its preview")
	assert.Contains(t, got, "راجع الحملة قبل إنشائها", "the campaign goes on to its summary")
}

// TestAttachTranscript: at /attach's question, a text or a file that is
// no picture is refused and the question asked again; a poster is kept.
func TestAttachTranscript(t *testing.T) {
	for _, name := range []string{"attach_en.txt", "attach_ar.txt"} {
		t.Run(name, func(t *testing.T) {
			h := newTranscript(t)
			files, err := store.OpenMediaFiles(filepath.Join(t.TempDir(), "media"), store.DefaultMaxMedia)
			require.NoError(t, err)
			h.media = files
			h.check(name)
			c, err := h.st.CampaignByCode(context.Background(), "walk")
			require.NoError(t, err)
			require.NotNil(t, c.Media, "the poster is attached")
			assert.Equal(t, "walk-poster.png", c.Media.Name)
		})
	}
}
