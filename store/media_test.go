package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mobilise/bot"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testPNG is a real PNG of a few pixels.
func testPNG(t *testing.T, shade uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	img.Set(1, 1, color.RGBA{R: shade, A: 255})
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

func TestMediaFilesPut(t *testing.T) {
	files, err := OpenMediaFiles(filepath.Join(t.TempDir(), "media"), 1<<10)
	require.NoError(t, err)
	pic := testPNG(t, 200)
	sum := sha256.Sum256(pic)

	m, err := files.Put(bytes.NewReader(pic), "../../etc/ملصق.jpg")
	require.NoError(t, err)
	assert.Equal(t, hex.EncodeToString(sum[:]), m.SHA256)
	assert.Equal(t, bot.MediaImage, m.Kind)
	assert.Equal(t, "image/png", m.MIME, "the type comes from the content, not the name")
	assert.Equal(t, "ملصق.png", m.Name, "no directories; the extension of the content")
	assert.Equal(t, int64(len(pic)), m.Size)

	r, err := files.Open(m.SHA256)
	require.NoError(t, err)
	var got bytes.Buffer
	_, err = got.ReadFrom(r)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	assert.Equal(t, pic, got.Bytes())

	again, err := files.Put(bytes.NewReader(pic), "other.png")
	require.NoError(t, err)
	assert.Equal(t, m.SHA256, again.SHA256)
	list, err := files.List()
	require.NoError(t, err)
	assert.Equal(t, []string{m.SHA256}, list, "the same bytes are kept once")
	leftovers, _ := filepath.Glob(filepath.Join(files.Dir(), ".incoming-*"))
	assert.Empty(t, leftovers, "no temporary file is left")

	pdf := []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
	doc, err := files.Put(bytes.NewReader(pdf), "")
	require.NoError(t, err)
	assert.Equal(t, bot.MediaDocument, doc.Kind)
	assert.Equal(t, "document.pdf", doc.Name)

	mp4 := append([]byte{0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'm', 'p', '4', '2', 0, 0, 0, 0, 'm', 'p', '4', '2', 'i', 's', 'o', 'm'}, make([]byte, 64)...)
	vid, err := files.Put(bytes.NewReader(mp4), "clip.mov")
	require.NoError(t, err)
	assert.Equal(t, bot.MediaVideo, vid.Kind)
	assert.Equal(t, "clip.mp4", vid.Name)

	_, err = files.Put(strings.NewReader("<html><script>alert(1)</script></html>"), "poster.png")
	assert.ErrorIs(t, err, ErrMediaType, "a page named like a picture is refused")
	_, err = files.Put(strings.NewReader("GIF89a......"), "a.gif")
	assert.ErrorIs(t, err, ErrMediaType)
	_, err = files.Put(strings.NewReader(""), "empty.png")
	assert.ErrorIs(t, err, ErrMediaType)
	big := append(testPNG(t, 1), make([]byte, 2<<10)...)
	_, err = files.Put(bytes.NewReader(big), "big.png")
	assert.ErrorIs(t, err, ErrMediaTooLarge)

	_, err = files.Open(strings.Repeat("0", 64))
	assert.ErrorIs(t, err, ErrMediaMissing)
	_, err = files.Open("../../mobilise.db")
	assert.Error(t, err, "only SHA-256 names are opened")
}

func TestMediaFilesCopyTo(t *testing.T) {
	files, err := OpenMediaFiles(filepath.Join(t.TempDir(), "media"), 0)
	require.NoError(t, err)
	a, err := files.Put(bytes.NewReader(testPNG(t, 1)), "a.png")
	require.NoError(t, err)
	b, err := files.Put(bytes.NewReader(testPNG(t, 2)), "b.png")
	require.NoError(t, err)

	dst := filepath.Join(t.TempDir(), "backup-media")
	n, size, err := files.CopyTo(dst)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, a.Size+b.Size, size)
	copied, err := OpenMediaFiles(dst, 0)
	require.NoError(t, err)
	assert.True(t, copied.Has(a.SHA256) && copied.Has(b.SHA256))

	n, _, err = files.CopyTo(dst)
	require.NoError(t, err)
	assert.Zero(t, n, "what the backup holds already is not copied again")

	// a file damaged on disk is not copied as if sound
	c, err := files.Put(bytes.NewReader(testPNG(t, 3)), "c.png")
	require.NoError(t, err)
	p, _ := files.path(c.SHA256)
	require.NoError(t, os.WriteFile(p, []byte("damaged"), 0o600))
	_, _, err = files.CopyTo(dst)
	assert.ErrorIs(t, err, ErrCorrupt)
	assert.False(t, copied.Has(c.SHA256))
}

func TestUploads(t *testing.T) {
	st, _ := openTestStore(t)
	ctx := context.Background()
	sha := strings.Repeat("ab", 32)
	_, ok, err := st.Upload(ctx, "telegram:42", sha)
	require.NoError(t, err)
	assert.False(t, ok)

	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	require.NoError(t, st.SaveUpload(ctx, "telegram:42", sha, bot.Upload{Ref: "AgACAgQ", At: at}))
	require.NoError(t, st.SaveUpload(ctx, "whatsapp:970599000000", sha, bot.Upload{Ref: `{"url":"x"}`, At: at, Expires: at.Add(time.Hour)}))
	u, ok, err := st.Upload(ctx, "telegram:42", sha)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, bot.Upload{Ref: "AgACAgQ", At: at}, u)
	_, ok, err = st.Upload(ctx, "telegram:43", sha)
	require.NoError(t, err)
	assert.False(t, ok, "a file_id is another bot's")

	require.NoError(t, st.ForgetUpload(ctx, "telegram:42", sha))
	_, ok, err = st.Upload(ctx, "telegram:42", sha)
	require.NoError(t, err)
	assert.False(t, ok)
	u, ok, err = st.Upload(ctx, "whatsapp:970599000000", sha)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, at.Add(time.Hour), u.Expires)
	assert.Error(t, st.SaveUpload(ctx, "", sha, u))
	require.NoError(t, st.Check())
}
