package whatsapp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"mobilise/bot"
)

func posterPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 60, 40))
	for x := range 60 {
		img.Set(x, x*2/3, color.RGBA{G: 120, A: 255})
	}
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

func mediaOf(kind bot.MediaKind, mime, name string, content []byte) *bot.Media {
	sum := sha256.Sum256(content)
	return &bot.Media{SHA256: hex.EncodeToString(sum[:]), Kind: kind, MIME: mime, Name: name, Size: int64(len(content)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil }}
}

// memUploads is an in-memory bot.Uploads.
type memUploads struct {
	mu sync.Mutex
	m  map[string]bot.Upload
}

func (u *memUploads) Upload(_ context.Context, account, sha string) (bot.Upload, bool, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	v, ok := u.m[account+" "+sha]
	return v, ok, nil
}

func (u *memUploads) SaveUpload(_ context.Context, account, sha string, v bot.Upload) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.m[account+" "+sha] = v
	return nil
}

func (u *memUploads) ForgetUpload(_ context.Context, account, sha string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.m, account+" "+sha)
	return nil
}

// mediaChannel is a connected channel whose uploads go, through a real
// whatsmeow client, to a fake media server.
func mediaChannel(t *testing.T, opts ...Option) (*Channel, *fakeClient, *fakeMediaServer) {
	t.Helper()
	f := newFakeClient()
	f.connected = true
	f.media = newFakeMediaServer(t)
	return newWithClient(f, append([]Option{withOwnNumber(waOwnNumber)}, opts...)...), f, f.media
}

func TestSendMediaUploadsOnceWithTheShapeWhatsAppWants(t *testing.T) {
	uploads := &memUploads{m: map[string]bot.Upload{}}
	c, f, srv := mediaChannel(t, WithUploads(uploads))
	pic := posterPNG(t)
	m := mediaOf(bot.MediaImage, "image/png", "poster.png", pic)
	msg := bot.Outgoing{To: addr("970599123456"), Text: "انضموا إلينا يوم الجمعة", Media: m,
		Buttons: [][]bot.Button{{{Text: "افتح الحملة", Payload: "/start vigil"}}}}
	id, err := c.SendMedia(context.Background(), msg)
	require.NoError(t, err)
	assert.Equal(t, "3EB0FAKE", id)
	msg.To = addr("970599222333")
	_, err = c.SendMedia(context.Background(), msg)
	require.NoError(t, err)

	require.Len(t, f.uploads(), 1, "uploaded once for two sends")
	assert.Equal(t, whatsmeow.MediaImage, f.uploads()[0].kind)
	require.Len(t, srv.uploaded(), 1)
	assert.Equal(t, "image", srv.uploaded()[0].mmsType)
	assert.Greater(t, srv.uploaded()[0].size, len(pic), "the upload is encrypted, with its MAC")

	require.Len(t, f.messages, 2)
	im := f.messages[0].GetImageMessage()
	require.NotNil(t, im, "an image message")
	assert.Equal(t, "انضموا إلينا يوم الجمعة\n\n• افتح الحملة: /start vigil", im.GetCaption())
	assert.Equal(t, "image/png", im.GetMimetype())
	assert.True(t, strings.HasPrefix(im.GetURL(), srv.URL))
	assert.True(t, strings.HasPrefix(im.GetDirectPath(), "/v/"))
	assert.Len(t, im.GetMediaKey(), 32)
	assert.Len(t, im.GetFileEncSHA256(), 32)
	sum := sha256.Sum256(pic)
	assert.Equal(t, sum[:], im.GetFileSHA256())
	assert.Equal(t, uint64(len(pic)), im.GetFileLength())
	assert.Equal(t, im.GetMediaKey(), f.messages[1].GetImageMessage().GetMediaKey(), "the second send refers to the same upload")
	assert.Equal(t, []types.JID{types.NewJID("970599123456", types.DefaultUserServer), types.NewJID("970599222333", types.DefaultUserServer)},
		[]types.JID{f.sentMessages()[0].To, f.sentMessages()[1].To})

	// what a recipient's phone does: download and decrypt, checking every hash
	got, err := srv.cli.Download(context.Background(), im)
	require.NoError(t, err)
	assert.Equal(t, pic, got, "the message decrypts to the poster")

	// a restart reuses the upload kept in the store
	c2 := newWithClient(f, withOwnNumber(waOwnNumber), WithUploads(uploads))
	_, err = c2.SendMedia(context.Background(), msg)
	require.NoError(t, err)
	assert.Len(t, f.uploads(), 1, "no upload after the restart")
	assert.Equal(t, im.GetDirectPath(), f.messages[2].GetImageMessage().GetDirectPath())
}

func TestSendMediaUploadsAgainOnceExpired(t *testing.T) {
	clk := &clock{t: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	c, f, _ := mediaChannel(t, WithNow(clk.now), WithUploadTTL(48*time.Hour))
	pdf := []byte("%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n")
	m := mediaOf(bot.MediaDocument, "application/pdf", "بيان.pdf", pdf)
	send := func() *waE2E.DocumentMessage {
		_, err := c.SendMedia(context.Background(), bot.Outgoing{To: addr("970599123456"), Text: "البيان", Media: m})
		require.NoError(t, err)
		return f.messages[len(f.messages)-1].GetDocumentMessage()
	}
	first := send()
	require.NotNil(t, first)
	assert.Equal(t, "بيان.pdf", first.GetFileName())
	assert.Equal(t, "application/pdf", first.GetMimetype())
	assert.Equal(t, "البيان", first.GetCaption())
	clk.advance(47 * time.Hour)
	assert.Equal(t, first.GetDirectPath(), send().GetDirectPath(), "still fresh")
	clk.advance(2 * time.Hour)
	third := send()
	assert.NotEqual(t, first.GetDirectPath(), third.GetDirectPath(), "expired: uploaded again")
	require.Len(t, f.uploads(), 2)
	assert.Equal(t, whatsmeow.MediaDocument, f.uploads()[1].kind)
}

func TestSendMediaVideoAndLongText(t *testing.T) {
	c, f, srv := mediaChannel(t)
	mp4 := append([]byte{0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'm', 'p', '4', '2', 0, 0, 0, 0, 'm', 'p', '4', '2', 'i', 's', 'o', 'm'}, make([]byte, 200)...)
	long := strings.Repeat("نداء المصالحة. ", 100)
	_, err := c.SendMedia(context.Background(), bot.Outgoing{To: addr("970599123456"), Text: long, Media: mediaOf(bot.MediaVideo, "video/mp4", "clip.mp4", mp4)})
	require.NoError(t, err)
	require.Len(t, f.messages, 2, "the video, then the text that would not fit its caption")
	v := f.messages[0].GetVideoMessage()
	require.NotNil(t, v)
	assert.Empty(t, v.GetCaption())
	assert.Equal(t, "video/mp4", v.GetMimetype())
	assert.Equal(t, long, f.messages[1].GetConversation())
	assert.Equal(t, "video", srv.uploaded()[0].mmsType)
	got, err := srv.cli.Download(context.Background(), v)
	require.NoError(t, err)
	assert.Equal(t, mp4, got)
}

func TestSendMediaErrors(t *testing.T) {
	c, f, _ := mediaChannel(t)
	m := mediaOf(bot.MediaImage, "image/png", "p.png", posterPNG(t))
	f.connected = false
	_, err := c.SendMedia(context.Background(), bot.Outgoing{To: addr("970599123456"), Text: "x", Media: m})
	assert.ErrorIs(t, err, ErrNotConnected)
	assert.Empty(t, f.uploads(), "nothing uploaded while disconnected")
	f.connected = true
	f.uploadErr = whatsmeow.ErrMediaDownloadFailedWith404
	_, err = c.SendMedia(context.Background(), bot.Outgoing{To: addr("970599123456"), Text: "x", Media: m})
	assert.ErrorContains(t, err, "uploading p.png")
	assert.Empty(t, f.messages, "no message without its upload")
}

func TestIncomingFileIsDownloaded(t *testing.T) {
	c, _, srv := mediaChannel(t)
	pic := posterPNG(t)
	up, err := srv.cli.Upload(context.Background(), pic, whatsmeow.MediaImage)
	require.NoError(t, err)
	evt := &events.Message{
		Info: types.MessageInfo{MessageSource: types.MessageSource{Chat: types.NewJID("970599123456", types.DefaultUserServer),
			Sender: types.NewJID("970599123456", types.DefaultUserServer)}, ID: "ABC", Timestamp: time.Now()},
		Message: &waE2E.Message{ImageMessage: &waE2E.ImageMessage{URL: &up.URL, DirectPath: &up.DirectPath, MediaKey: up.MediaKey,
			FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: &up.FileLength, Mimetype: strPtr("image/png"), Caption: strPtr("ملصقنا")}},
	}
	j, ok := c.incoming(evt)
	require.True(t, ok)
	require.NotNil(t, j.in.File)
	assert.Equal(t, bot.Photo, j.in.Attachment)
	assert.Equal(t, "ملصقنا", j.in.Text)
	assert.Equal(t, int64(len(pic)), j.in.File.Size)
	r, err := j.in.File.Fetch(context.Background())
	require.NoError(t, err)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, pic, got)
}

func strPtr(s string) *string { return &s }
