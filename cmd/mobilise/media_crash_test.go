package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot/outbox"
	"mobilise/store"
)

// crashMedia is what the crash fake saw of files; guarded by crashBotAPI.mu.
type crashMedia struct {
	// uploads counts sendPhoto calls that uploaded the file, byRef those
	// that named it by the file_id the fake gave
	uploads, byRef int
	fileIDs        map[string]bool
	// photos counts the photos delivered per chat
	photos map[int64]int
	// badRef lists sends by a file_id the fake never gave
	badRef []string
}

// photosTo returns what the fake saw of files, and how many photos the
// recipients were delivered in all.
func (f *crashBotAPI) photosTo(recipients map[int64]string) (crashMedia, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for chat := range recipients {
		n += f.media.photos[chat]
	}
	return f.media, n
}

// sendPhoto is sendMessage for a photo: uploaded (a multipart file part,
// which must decode as a PNG or JPEG) or by a file_id the fake gave, with
// the text as its caption, at the same rates and with the same delay.
func (f *crashBotAPI) sendPhoto(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.sending++
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.sending--
		f.mu.Unlock()
	}()
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		f.fail(w, http.StatusBadRequest, "Bad Request: "+err.Error())
		return
	}
	chat, err := strconv.ParseInt(r.FormValue("chat_id"), 10, 64)
	if err != nil {
		f.fail(w, http.StatusBadRequest, "Bad Request: chat_id")
		return
	}
	var upload []byte
	if fh := r.MultipartForm.File["photo"]; len(fh) == 1 {
		file, err := fh[0].Open()
		if err == nil {
			upload, err = io.ReadAll(file)
			file.Close()
		}
		if _, _, derr := image.DecodeConfig(bytes.NewReader(upload)); err != nil || derr != nil {
			f.fail(w, http.StatusBadRequest, "Bad Request: IMAGE_PROCESS_FAILED")
			return
		}
	}
	ref := r.FormValue("photo")
	now := time.Now()
	f.mu.Lock()
	if f.media.fileIDs == nil {
		f.media.fileIDs, f.media.photos = map[string]bool{}, map[int64]int{}
	}
	if upload == nil && !f.media.fileIDs[ref] {
		f.media.badRef = append(f.media.badRef, ref)
		f.mu.Unlock()
		f.fail(w, http.StatusBadRequest, "Bad Request: wrong file identifier/HTTP URL specified")
		return
	}
	if wait := f.overRate(chat, now); wait > 0 {
		f.tooMany++
		f.mu.Unlock()
		f.tooManyRequests(w, wait)
		return
	}
	if upload != nil {
		f.media.uploads++
		ref = fmt.Sprintf("AgACAgQ-%d", f.media.uploads)
		f.media.fileIDs[ref] = true
	} else {
		f.media.byRef++
	}
	caption := r.FormValue("caption")
	f.delivered[chat] = append(f.delivered[chat], caption)
	f.media.photos[chat]++
	_, via := viaPath(r)
	f.sent = append(f.sent, crashMessage{chat: chat, text: caption, at: now, via: via})
	f.nextID++
	id := f.nextID
	f.mu.Unlock()
	time.Sleep(time.Duration(20+rand.IntN(31)) * time.Millisecond)
	fmt.Fprintf(w, `{"ok":true,"result":{"message_id":%d,"date":0,"chat":{"id":%d,"type":"private"},"caption":%q,`+
		`"photo":[{"file_id":"%s-s","file_unique_id":"u1","width":90,"height":120},{"file_id":%q,"file_unique_id":"u2","width":120,"height":160}]}}`,
		id, chat, caption, ref, ref)
}

// crashPoster is the poster of the crash broadcast.
func crashPoster(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 120, 160))
	for y := range 160 {
		img.Set(y%120, y, color.RGBA{R: 200, A: 255})
	}
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

// TestMediaBroadcastSurvivesSIGKILL sends a poster to 1,000 people at
// Telegram's default limits, kills the bot half-way, and starts it again:
// the poster is uploaded once, by the first send, and every other copy,
// after the restart too, goes by the file_id kept in the store; nobody is
// missed, and only the sends in flight at the kill go twice.
func TestMediaBroadcastSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program")
	}
	const people, stopAfter = 1000, 500
	mobiliseBinary(t) // not timed
	start := time.Now()
	s := prepareBroadcastWith(t, people, crashPoster(t))
	api := newCrashBotAPI(t, 30)
	bound := outbox.TelegramLimits().Concurrency

	setUp := time.Now()
	p := startBot(t, s, api, false, 1)
	waitFor(t, p, 2*time.Minute, fmt.Sprintf("%d photos", stopAfter), func() bool {
		return api.tally(s.recipients).messages >= stopAfter
	})
	assert.Equal(t, -1, p.stop(t, syscall.SIGKILL), "killed")
	waitFor(t, nil, 5*time.Second, "the fake to finish its answers", func() bool { return api.tally(s.recipients).sending == 0 })
	atKill := api.tally(s.recipients)
	b, left := broadcastState(t, s)
	sentAtKill := b.Sent
	require.Less(t, sentAtKill, people, "the kill landed before the end of the broadcast")
	inFlight := atKill.messages - sentAtKill
	assert.GreaterOrEqual(t, inFlight, 0)
	assert.LessOrEqual(t, inFlight, bound, "at most the sends in flight are unrecorded")
	assert.Equal(t, people-sentAtKill, left, "every unrecorded message is still queued")

	killed := time.Now()
	finish(t, s, api, false, 2)
	finished := time.Now()
	got := api.tally(s.recipients)
	assert.Equal(t, people, got.reached, "every recipient got the poster")
	assert.Zero(t, got.more, "nobody got it three times")
	assert.Equal(t, inFlight, got.twice, "exactly the sends unrecorded at the kill went again")
	assert.Empty(t, api.wrongTexts(s.recipients), "each caption in its reader's language")
	m, photos := api.photosTo(s.recipients)
	assert.Equal(t, 1, m.uploads, "the poster was uploaded once, across the kill and the restart")
	assert.Equal(t, got.messages-1, m.byRef, "every other copy went by file_id")
	assert.Equal(t, got.messages, photos, "every message to a recipient was the photo")
	assert.Empty(t, m.badRef)
	b, left = broadcastState(t, s)
	assert.Equal(t, store.BroadcastDone, b.Status)
	assert.Equal(t, people, b.Sent)
	assert.Zero(t, left)
	run1, run2 := killed.Sub(setUp), finished.Sub(killed)
	t.Logf("media broadcast: %d people; killed after %d photos, %d recorded; %d sent twice (bound %d); 1 upload, %d by file_id; "+
		"%d 429s; set-up %v, first run %v (%.1f/s), second run %v (%.1f/s)",
		people, atKill.messages, sentAtKill, got.twice, bound, m.byRef, got.tooMany, setUp.Sub(start).Round(ms),
		run1.Round(ms), float64(atKill.messages)/run1.Seconds(), run2.Round(ms), float64(got.messages-atKill.messages)/run2.Seconds())
}
