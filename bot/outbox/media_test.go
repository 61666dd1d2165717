package outbox_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/outbox"
	"mobilise/store"
)

// mediaSender is a channel that sends files: it reads each one as a
// platform upload would, and records what came with it.
type mediaSender struct {
	*fakeSender
	mu    sync.Mutex
	files [][]byte
	media []*bot.Media
}

func (m *mediaSender) SendMedia(ctx context.Context, msg bot.Outgoing) (string, error) {
	r, err := msg.Media.Open()
	if err != nil {
		return "", err
	}
	content, err := io.ReadAll(r)
	if err := r.Close(); err != nil {
		return "", err
	}
	if err != nil {
		return "", err
	}
	m.mu.Lock()
	m.files = append(m.files, content)
	m.media = append(m.media, msg.Media)
	m.mu.Unlock()
	return m.Send(ctx, msg)
}

// wrapped hides a sender's capabilities behind a wrapper, as metrics do.
type wrapped struct{ bot.Sender }

func (w wrapped) Unwrap() bot.Sender { return w.Sender }

type describer struct{}

func (describer) DescribeMedia(lang string, m *store.Media) string {
	return lang + ": [" + m.Name + "]"
}

func TestMediaGoesThroughMediaSendersAndIsNamedElsewhere(t *testing.T) {
	clock := newClock(t0)
	st := openStore(t, clock)
	files, err := store.OpenMediaFiles(filepath.Join(t.TempDir(), "media"), 0)
	require.NoError(t, err)
	var pic bytes.Buffer
	require.NoError(t, png.Encode(&pic, image.NewGray(image.Rect(0, 0, 3, 3))))
	m, err := files.Put(bytes.NewReader(pic.Bytes()), "poster.png")
	require.NoError(t, err)

	tg := &mediaSender{fakeSender: newFakeSender("telegram", clock)}
	con := newFakeSender("console", clock)
	require.NoError(t, st.Enqueue(context.Background(),
		store.OutboxEntry{To: bot.MustParseAddress("telegram:1"), Text: "انضموا", Lang: "ar", Media: m, Bulk: true},
		store.OutboxEntry{To: bot.MustParseAddress("telegram:2"), Text: "plain"},
		store.OutboxEntry{To: bot.MustParseAddress("console:x"), Text: "Join us", Lang: "en", Media: m},
		store.OutboxEntry{To: bot.MustParseAddress("console:y"), Lang: "en", Media: m},
	))
	d := newDispatcher(st, clock, []bot.Sender{wrapped{tg}, con}, outbox.WithMedia(files, describer{}))
	start(t, d)
	tg.waitSent(t, 2)
	con.waitSent(t, 2)

	require.Len(t, tg.media, 1, "only the entry with a file goes as one, found through the wrapper")
	assert.Equal(t, pic.Bytes(), tg.files[0], "the file read from the media directory")
	assert.Equal(t, m.SHA256, tg.media[0].SHA256)
	assert.Equal(t, bot.MediaImage, tg.media[0].Kind)
	for _, s := range tg.Sent() {
		switch s.To {
		case "telegram:1":
			assert.Equal(t, "انضموا", s.Text, "the text is the caption, unchanged")
			assert.NotNil(t, s.Msg.Media)
		case "telegram:2":
			assert.Nil(t, s.Msg.Media)
		}
	}
	texts := map[string]string{}
	for _, s := range con.Sent() {
		texts[s.To] = s.Text
		assert.Nil(t, s.Msg.Media, "a channel without files gets none")
	}
	assert.Equal(t, "Join us\n\nen: [poster.png]", texts["console:x"])
	assert.Equal(t, "en: [poster.png]", texts["console:y"])
	assert.Eventually(t, func() bool { return depth(t, st) == 0 }, 10*time.Second, time.Millisecond, "every message recorded sent")
}
