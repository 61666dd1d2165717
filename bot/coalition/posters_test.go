package coalition_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/coalition"
	"mobilise/store"
)

// linker makes the share links a channel would.
type linker string

func (l linker) ShareLink(payload string) string { return string(l) + payload }

// waitFor waits until a message of kind is queued for c.
func (f *fixture) waitFor(c *store.Contact, kind store.MessageKind) store.OutboxEntry {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if got := f.to(c, kind); len(got) > 0 {
			return got[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	f.t.Fatalf("no %s message for contact %d", kind, c.ID)
	return store.OutboxEntry{}
}

// A poster asked for in chat is drawn outside the unit of work and written
// beside the exports, and the coordinator is told where it is.
func TestPosterFromChat(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := filepath.Join(t.TempDir(), "exports")
	f := newFixture(t, coalition.WithPosters(dir, "ائتلاف السلم الأهلي", "Civil Peace Coalition"),
		coalition.WithLinker(bot.Telegram, linker("https://t.me/salam_bot?start=")))
	done := make(chan error, 1)
	go func() { done <- f.co.Posters.Run(ctx) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()
	c := f.campaign("vigil", store.KindEvent, 0)
	coord := f.person(store.RoleCoordinator)
	got, err := f.co.Posters.Request(ctx, f.actor(coord), "VIGIL")
	require.NoError(t, err)
	assert.Equal(t, c.ID, got.ID)
	note := f.waitFor(coord, "poster")
	pdf, png := filepath.Join(dir, "poster-vigil.pdf"), filepath.Join(dir, "poster-vigil.png")
	assert.Contains(t, note.Text, pdf)
	assert.Contains(t, note.Text, png)
	for path, magic := range map[string][]byte{pdf: []byte("%PDF-"), png: []byte("\x89PNG")} {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.True(t, bytes.HasPrefix(data, magic), "%s", path)
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm(), "readable by whoever prints it")
	}
	assert.Len(t, f.audit("poster_made"), 1)

	_, err = f.co.Posters.Request(ctx, f.actor(coord), "nosuch")
	assert.ErrorIs(t, err, coalition.ErrNotFound)
	unset := newFixture(t)
	_, err = unset.co.Posters.Request(ctx, unset.actor(unset.person(store.RoleCoordinator)), unset.campaign("walk", store.KindPledge, 0).Code)
	assert.ErrorIs(t, err, coalition.ErrNoPosters)
}

// Without a channel that makes links, the coordinator hears why there is no poster.
func TestPosterWithoutLinks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newFixture(t, coalition.WithPosters(t.TempDir(), "ائتلاف", "Coalition"))
	go func() { _ = f.co.Posters.Run(ctx) }()
	f.campaign("walk", store.KindPledge, 0)
	coord := f.person(store.RoleCoordinator)
	_, err := f.co.Posters.Request(ctx, f.actor(coord), "walk")
	require.NoError(t, err)
	note := f.waitFor(coord, "poster")
	assert.Contains(t, note.Text, "رابط للبوت")
}
