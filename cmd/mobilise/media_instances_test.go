package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/store"
	"mobilise/store/postgres"
	"mobilise/store/postgres/pgtest"
)

// startInstanceOn is startInstance with the data directory data, which the
// test fills before the instance starts.
func startInstanceOn(t *testing.T, dbURL string, api *crashBotAPI, name, data string) *botProcess {
	t.Helper()
	return startProcess(t, name, []string{"--quiet-hours", "off", "--log-level", "info"},
		"TELEGRAM_TOKEN="+crashToken, "TELEGRAM_API_URL="+api.URL, "MOBILISE_DATA="+data, "MOBILISE_STORE="+dbURL)
}

// sharedPoster is a poster unlike crashPoster, its stripe at column shade.
func sharedPoster(t *testing.T, shade uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 120, 160))
	for y := range 160 {
		img.Set(int(shade)%120, y, color.RGBA{G: shade, A: 255})
	}
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

// TestPostersSharedAcrossInstances runs two instances of the program on
// one PostgreSQL database, each with its data directory. The second holds
// two posters the first never saw: one kept before it started, as a
// version that kept files on disk only did, which it shares as it starts,
// and one kept while it runs, as its dashboard keeps an upload. Two
// broadcasts carry them; the first instance, which holds the outbox, sends
// every photo, each poster uploaded once, and keeps both files, the same
// bytes, in its own directory.
func TestPostersSharedAcrossInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program")
	}
	const people = 40
	dbURL := pgtest.NewDatabase(t)
	mobiliseBinary(t) // not timed
	api := newCrashBotAPI(t, 30)
	ctx := context.Background()
	dataA, dataB := filepath.Join(t.TempDir(), "data-a"), filepath.Join(t.TempDir(), "data-b")
	mediaB := store.MediaDir(filepath.Join(dataB, "mobilise.db"))
	posters := [][]byte{sharedPoster(t, 40), sharedPoster(t, 90)}

	onDisk, err := store.OpenMediaFiles(mediaB, 0)
	require.NoError(t, err)
	before, err := onDisk.Put(bytes.NewReader(posters[0]), "before.png")
	require.NoError(t, err)

	a := startInstanceOn(t, dbURL, api, "a", dataA)
	waitFor(t, a, 30*time.Second, "instance a to win its leases", func() bool {
		return containsAll(a.stderr(), `lease=telegram`, `lease=outbox`)
	})
	b := startInstanceOn(t, dbURL, api, "b", dataB)
	waitFor(t, b, 30*time.Second, "instance b to share the poster it held", func() bool {
		return containsAll(b.stderr(), `msg="media files shared through the database" files=1`)
	})

	pg, err := postgres.Open(ctx, dbURL)
	require.NoError(t, err)
	defer pg.Close()
	filesB, err := store.OpenMediaFiles(mediaB, 0, store.WithSharedMedia(pg))
	require.NoError(t, err)
	during, err := filesB.Put(bytes.NewReader(posters[1]), "during.png")
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(store.MediaDir(filepath.Join(dataA, "mobilise.db")), during.SHA256[:2], during.SHA256))
	require.ErrorIs(t, err, os.ErrNotExist, "instance a has neither poster on its disk")

	coord, _, err := pg.EnsureContact(ctx, bot.MustParseAddress(fmt.Sprintf("telegram:%d", crashCoordinator)), "Coordinator", "en")
	require.NoError(t, err)
	_, err = pg.UpdateContact(ctx, coord.ID, func(c *store.Contact) error {
		c.Role, c.Consent = store.RoleCoordinator, true
		return nil
	})
	require.NoError(t, err)
	recipients := map[int64]string{}
	batches := make([][]store.OutboxEntry, 2)
	for i := range people {
		chat := int64(firstRecipient + i)
		addr := bot.MustParseAddress(fmt.Sprintf("telegram:%d", chat))
		c, _, err := pg.EnsureContact(ctx, addr, fmt.Sprintf("person %d", i), "en")
		require.NoError(t, err)
		_, err = pg.UpdateContact(ctx, c.ID, func(c *store.Contact) error {
			c.Consent, c.ConsentAt = true, time.Now().UTC()
			return nil
		})
		require.NoError(t, err)
		recipients[chat] = "en"
		batches[i%2] = append(batches[i%2], store.OutboxEntry{Channel: bot.Telegram, To: addr, ContactID: c.ID, Text: crashTextEN,
			Lang: "en", Kind: store.KindBroadcast})
	}
	queued := time.Now()
	for i, m := range []*store.Media{before, during} {
		bc := &store.Broadcast{TextAR: crashTextAR, TextEN: crashTextEN, Audience: store.Audience{Kind: store.AudienceEveryone},
			CreatedBy: coord.ID, ApprovedBy: coord.ID, Media: m}
		require.NoError(t, pg.CreateBroadcast(ctx, bc))
		for k := range batches[i] {
			batches[i][k].Media = m
		}
		require.NoError(t, pg.QueueBroadcast(ctx, bc.ID, batches[i]))
	}

	waitFor(t, a, time.Minute, "every photo sent", func() bool {
		_, n := api.photosTo(recipients)
		return n >= people
	})
	sent := time.Since(queued)
	time.Sleep(time.Second) // anything sent twice arrives
	api.mu.Lock()
	m := api.media
	perChat := map[int]int{}
	for chat := range recipients {
		perChat[m.photos[chat]]++
	}
	api.mu.Unlock()
	assert.Equal(t, map[int]int{1: people}, perChat, "each person got one photo")
	assert.Equal(t, 2, m.uploads, "each poster uploaded once")
	assert.Equal(t, people-2, m.byRef, "every other copy by file_id")
	assert.Empty(t, m.badRef)

	filesA, err := store.OpenMediaFiles(store.MediaDir(filepath.Join(dataA, "mobilise.db")), 0)
	require.NoError(t, err)
	for i, sha := range []string{before.SHA256, during.SHA256} {
		got, err := os.ReadFile(filepath.Join(filesA.Dir(), sha[:2], sha))
		require.NoError(t, err, "instance a keeps the poster it fetched")
		assert.Equal(t, posters[i], got, "the same bytes")
	}
	assert.NotContains(t, b.stderr(), "lease=outbox", "instance b never held the outbox")
	assert.False(t, strings.Contains(a.stderr(), "level=ERROR"), "instance a logged no error:\n%s", a.stderr())
	require.Equal(t, 0, b.stop(t, syscall.SIGTERM), "a clean exit; the log:\n%s", b.stderr())
	require.Equal(t, 0, a.stop(t, syscall.SIGTERM), "a clean exit; the log:\n%s", a.stderr())
	t.Logf("%d people, 2 posters kept on instance b only (%d and %d bytes); instance a sent every photo %v after the queueing, "+
		"%d uploads, %d by file_id", people, len(posters[0]), len(posters[1]), sent.Round(time.Millisecond), m.uploads, m.byRef)
}
