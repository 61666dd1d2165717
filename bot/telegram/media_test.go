package telegram

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
)

// posterPNG is a real PNG, of the given width, to send as a poster.
func posterPNG(t testing.TB, width int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, width, width*3/4))
	for x := range width {
		img.Set(x, x*3/4, color.RGBA{R: 200, G: 30, B: 60, A: 255})
	}
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

// media is a file as the outbox hands it to the channel, read from memory.
func media(kind bot.MediaKind, name string, content []byte) *bot.Media {
	sum := sha256.Sum256(content)
	return &bot.Media{SHA256: hex.EncodeToString(sum[:]), Kind: kind, Name: name, Size: int64(len(content)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil }}
}

func chatAt(id string) bot.Address { return bot.Address{Channel: "telegram", ID: id} }

func TestSendMediaUploadsOnceThenByFileID(t *testing.T) {
	f := newFake(t)
	uploads := newMemUploads()
	c := newTestChannel(t, f, WithUploads(uploads))
	pic := posterPNG(t, 320)
	m := media(bot.MediaImage, "ملصق.png", pic)
	buttons := [][]bot.Button{{{Text: "افتح الحملة", Payload: "/start vigil"}}}

	id, err := c.SendMedia(context.Background(), bot.Outgoing{To: chatAt("1001"), Text: "انضموا إلينا <يوم الجمعة> & بعده", Buttons: buttons, Media: m})
	require.NoError(t, err)
	assert.NotEmpty(t, id)
	for _, chat := range []string{"1002", "1003"} {
		_, err := c.SendMedia(context.Background(), bot.Outgoing{To: chatAt(chat), Text: "انضموا", Media: m})
		require.NoError(t, err)
	}

	calls := f.calls("sendPhoto")
	require.Len(t, calls, 3)
	first := calls[0]
	require.Contains(t, first.Files, "photo", "the first send uploads the file")
	assert.Equal(t, pic, first.Files["photo"].Data)
	assert.Equal(t, "ملصق.png", first.Files["photo"].Name)
	assert.Equal(t, "انضموا إلينا &lt;يوم الجمعة&gt; &amp; بعده", first.Form["caption"], "the caption is escaped HTML")
	assert.Equal(t, "HTML", first.Form["parse_mode"])
	assert.Contains(t, first.Form["reply_markup"], `"callback_data":"/start vigil"`, "the buttons go under the file")
	for _, later := range calls[1:] {
		assert.Empty(t, later.Files, "later sends upload nothing")
		assert.NotEmpty(t, later.Form["photo"])
		assert.NotContains(t, later.Form["photo"], "-s", "the largest size's file_id, not the thumbnail's")
	}
	rep := f.mediaReport()
	assert.Equal(t, map[string]int{m.SHA256: 1}, rep.uploads, "uploaded once")
	assert.Equal(t, 2, rep.byRef)

	saved, ok, err := uploads.Upload(context.Background(), "telegram:123456", m.SHA256)
	require.NoError(t, err)
	require.True(t, ok, "the file_id is kept for the bot, under its ID and not its token")
	assert.Equal(t, calls[1].Form["photo"], saved.Ref)

	// a restart: a new channel on the same store sends by reference at once
	c2 := newTestChannel(t, f, WithUploads(uploads))
	_, err = c2.SendMedia(context.Background(), bot.Outgoing{To: chatAt("1004"), Text: "انضموا", Media: m})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{m.SHA256: 1}, f.mediaReport().uploads, "still one upload after the restart")
}

func TestSendMediaConcurrentSendsShareOneUpload(t *testing.T) {
	f := newFake(t)
	f.rate.rates = fakeRates{} // this test is about uploads, not pacing
	c := newTestChannel(t, f)
	m := media(bot.MediaImage, "poster.png", posterPNG(t, 200))
	var wg sync.WaitGroup
	errs := make([]error, 12)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = c.SendMedia(context.Background(), bot.Outgoing{To: chatAt(strings.Repeat("7", i+1)), Text: "x", Media: m})
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	rep := f.mediaReport()
	assert.Equal(t, 1, rep.uploads[m.SHA256], "twelve sends at once, one upload")
	assert.Equal(t, 11, rep.byRef)
}

func TestSendMediaLongTextFollowsTheFile(t *testing.T) {
	f := newFake(t)
	c := newTestChannel(t, f)
	pdf := []byte("%PDF-1.4\n%%EOF\n")
	long := strings.Repeat("نداء المصالحة والعمل معًا. ", 60) // over 1,024 characters
	require.Greater(t, utf16Len(long), maxCaptionLen)
	buttons := [][]bot.Button{{{Text: "Open", Payload: "/start c1"}}}
	id, err := c.SendMedia(context.Background(), bot.Outgoing{To: chatAt("2001"), Text: long, Buttons: buttons,
		Media: media(bot.MediaDocument, "statement.pdf", pdf)})
	require.NoError(t, err)

	docs := f.calls("sendDocument")
	require.Len(t, docs, 1)
	assert.NotContains(t, docs[0].Form, "caption", "no caption: the text would not fit")
	assert.NotContains(t, docs[0].Form, "reply_markup", "the buttons go on the last text")
	assert.Equal(t, "statement.pdf", docs[0].Files["document"].Name)
	texts := f.calls("sendMessage")
	require.Len(t, texts, 1)
	assert.Equal(t, strings.TrimSpace(long), strings.TrimSpace(texts[0].Form["text"]))
	assert.Contains(t, texts[0].Form["reply_markup"], "/start c1")
	assert.Equal(t, "2001", texts[0].Form["chat_id"])
	assert.NotEqual(t, "", id, "the ID of the text after the file")
}

func TestSendMediaKindsAndRefusals(t *testing.T) {
	f := newFake(t)
	c := newTestChannel(t, f)
	mp4 := append([]byte{0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'm', 'p', '4', '2', 0, 0, 0, 0, 'm', 'p', '4', '2', 'i', 's', 'o', 'm'}, make([]byte, 64)...)
	_, err := c.SendMedia(context.Background(), bot.Outgoing{To: chatAt("3001"), Text: "watch", Media: media(bot.MediaVideo, "clip.mp4", mp4)})
	require.NoError(t, err)
	vids := f.calls("sendVideo")
	require.Len(t, vids, 1)
	assert.Equal(t, mp4, vids[0].Files["video"].Data)
	assert.Equal(t, "true", vids[0].Form["supports_streaming"])

	f.forbidden["3002"] = true
	_, err = c.SendMedia(context.Background(), bot.Outgoing{To: chatAt("3002"), Text: "x", Media: media(bot.MediaVideo, "clip.mp4", mp4)})
	assert.ErrorIs(t, err, bot.ErrRecipientGone)
	assert.Contains(t, err.Error(), "sendVideo to telegram:3002")

	// a file that cannot be read is not sent, and the error says why
	broken := &bot.Media{SHA256: strings.Repeat("0", 64), Kind: bot.MediaImage, Name: "x.png",
		Open: func() (io.ReadCloser, error) { return nil, errors.New("media file missing") }}
	_, err = c.SendMedia(context.Background(), bot.Outgoing{To: chatAt("3003"), Text: "x", Media: broken})
	assert.ErrorContains(t, err, "reading the file: media file missing")
}

func TestSendMediaUploadsAgainWhenTheFileIDIsRefused(t *testing.T) {
	f := newFake(t)
	uploads := newMemUploads()
	m := media(bot.MediaImage, "poster.png", posterPNG(t, 100))
	require.NoError(t, uploads.SaveUpload(context.Background(), "telegram:123456", m.SHA256, bot.Upload{Ref: "AgACAgQAAxkBAAIBgone"}))
	c := newTestChannel(t, f, WithUploads(uploads))
	_, err := c.SendMedia(context.Background(), bot.Outgoing{To: chatAt("4001"), Text: "x", Media: m})
	require.NoError(t, err)
	calls := f.calls("sendPhoto")
	require.Len(t, calls, 2)
	assert.Equal(t, "AgACAgQAAxkBAAIBgone", calls[0].Form["photo"])
	assert.Contains(t, calls[1].Files, "photo", "uploaded again")
	saved, ok, err := uploads.Upload(context.Background(), "telegram:123456", m.SHA256)
	require.NoError(t, err)
	require.True(t, ok)
	assert.NotEqual(t, "AgACAgQAAxkBAAIBgone", saved.Ref, "the new file_id replaces the refused one")
	f.mu.Lock()
	f.violations = nil // the refused file_id was the point
	f.mu.Unlock()
}

func TestIncomingFileIsFetched(t *testing.T) {
	f := newFake(t)
	c := newTestChannel(t, f)
	pic := posterPNG(t, 64)
	fileID := f.addFile("document", pic)
	raw := `{"update_id":50,"message":{"message_id":5,"from":{"id":5551,"is_bot":false,"first_name":"Lina"},` +
		`"chat":{"id":5551,"type":"private"},"date":1767225602,"document":{"file_id":"` + fileID + `","file_unique_id":"x","file_name":"poster.png","mime_type":"image/png","file_size":` +
		strings.TrimSpace(jsonNumber(len(pic))) + `}}}`
	_, upd, err := decodeUpdate([]byte(raw))
	require.NoError(t, err)
	in, ok := incomingFromUpdate(upd, testUsername)
	require.True(t, ok)
	c.fetchable(&in, upd)
	require.NotNil(t, in.File)
	assert.Equal(t, "poster.png", in.File.Name)
	assert.Equal(t, int64(len(pic)), in.File.Size)
	r, err := in.File.Fetch(context.Background())
	require.NoError(t, err)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	assert.Equal(t, pic, got)
	assert.Len(t, f.calls("getFile"), 1)
}

func jsonNumber(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestFakeChecksFiles checks that the fake refuses the files Telegram refuses.
func TestFakeChecksFiles(t *testing.T) {
	f := newFake(t)
	f.lenient = true
	c := newTestChannel(t, f)
	bad := []struct {
		label string
		m     *bot.Media
		text  string
		want  string
	}{
		{"a page as a photo", media(bot.MediaImage, "x.png", []byte("<html></html>")), "x", "IMAGE_PROCESS_FAILED"},
		{"a text as a video", media(bot.MediaVideo, "x.mp4", []byte("hello")), "x", "wrong type"},
	}
	for _, tc := range bad {
		_, err := c.SendMedia(context.Background(), bot.Outgoing{To: chatAt("9"), Text: tc.text, Media: tc.m})
		assert.ErrorContains(t, err, tc.want, tc.label)
	}
	post := func(method string, form map[string]string) string {
		var b strings.Builder
		for k, v := range form {
			b.WriteString(k + "=" + v + "&")
		}
		resp, err := f.Client().Post(f.URL+"/bot"+testToken+"/"+method, "application/x-www-form-urlencoded", strings.NewReader(strings.TrimSuffix(b.String(), "&")))
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	assert.Contains(t, post("sendPhoto", map[string]string{"chat_id": "9", "photo": "nosuchid"}), "wrong file identifier")
	assert.Contains(t, post("sendPhoto", map[string]string{"chat_id": "9", "photo": "x", "caption": strings.Repeat("a", 1025)}), "caption is too long")
	assert.Contains(t, post("copyMessage", map[string]string{"chat_id": "9", "from_chat_id": "9", "message_id": "77"}), "message to copy not found")
	_, err := c.SendMedia(context.Background(), bot.Outgoing{To: chatAt("10"), Text: "ok", Media: media(bot.MediaImage, "p.png", posterPNG(t, 40))})
	require.NoError(t, err)
	sent := f.calls("sendPhoto")
	docID := sent[len(sent)-1].Form["photo"]
	assert.Empty(t, docID, "the upload named no file_id")
	var photoID string
	f.mu.Lock()
	for id, file := range f.media.files {
		if file.kind == "photo" && !strings.HasSuffix(id, "-s") {
			photoID = id
		}
	}
	f.mu.Unlock()
	assert.Contains(t, post("sendDocument", map[string]string{"chat_id": "9", "document": photoID}), "can't use file of type photo")
	assert.Contains(t, post("copyMessage", map[string]string{"chat_id": "11", "from_chat_id": "10", "message_id": "101", "caption": "new"}), `"ok":true`)
}
