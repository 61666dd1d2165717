package coalition_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/coalition"
	"mobilise/store"
)

func testPoster(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, image.NewGray(image.Rect(0, 0, 8, 6))))
	return b.Bytes()
}

// mediaFixture is a fixture whose coalition keeps files.
func mediaFixture(t *testing.T) (*fixture, *store.MediaFiles) {
	t.Helper()
	files, err := store.OpenMediaFiles(filepath.Join(t.TempDir(), "media"), 1<<20)
	require.NoError(t, err)
	return newFixture(t, coalition.WithMedia(files)), files
}

func TestKeepingFiles(t *testing.T) {
	ctx := context.Background()
	f, files := mediaFixture(t)
	coord, citizen := f.person(store.RoleCoordinator), f.person(store.RoleCitizen)

	_, err := f.co.Media.Keep(ctx, f.actor(citizen), "p.png", bytes.NewReader(testPoster(t)))
	assert.ErrorIs(t, err, coalition.ErrNotAllowed, "only coordinators attach files")
	m, err := f.co.Media.Keep(ctx, f.actor(coord), "p.png", bytes.NewReader(testPoster(t)))
	require.NoError(t, err)
	assert.True(t, files.Has(m.SHA256))

	_, err = f.co.Media.Keep(ctx, f.actor(coord), "p.png", strings.NewReader("#!/bin/sh\nrm -rf /"))
	assert.ErrorIs(t, err, store.ErrMediaType)

	// a file the platform says is too big is refused unfetched
	fetched := false
	_, err = f.co.Media.KeepIncoming(ctx, f.actor(coord), &bot.IncomingFile{Size: 2 << 20, Fetch: func(context.Context) (io.ReadCloser, error) {
		fetched = true
		return io.NopCloser(strings.NewReader("")), nil
	}})
	assert.ErrorIs(t, err, store.ErrMediaTooLarge)
	assert.False(t, fetched)
	got, err := f.co.Media.KeepIncoming(ctx, f.actor(coord), &bot.IncomingFile{Name: "from-phone.jpg", Fetch: func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(testPoster(t))), nil
	}})
	require.NoError(t, err)
	assert.Equal(t, m.SHA256, got.SHA256, "the same content is the same file")
	assert.Equal(t, "from-phone.png", got.Name)

	off := newFixture(t)
	_, err = off.co.Media.Keep(ctx, off.actor(off.person(store.RoleCoordinator)), "p.png", bytes.NewReader(testPoster(t)))
	assert.ErrorIs(t, err, coalition.ErrNoMedia)
}

func TestBroadcastCarriesItsFileToEveryoneAndTheApprover(t *testing.T) {
	ctx := context.Background()
	f, _ := mediaFixture(t)
	author, admin := f.person(store.RoleCoordinator), f.person(store.RoleAdmin)
	f.crowd(4, "jenin")
	m, err := f.co.Media.Keep(ctx, f.actor(author), "walk.png", bytes.NewReader(testPoster(t)))
	require.NoError(t, err)

	res, err := f.co.Broadcasts.Submit(ctx, f.actor(author), coalition.BroadcastDraft{TextAR: "انضموا", TextEN: "Join", Audience: governorate("jenin"), Media: m})
	require.NoError(t, err)
	require.True(t, res.AwaitingApproval)
	assert.Equal(t, m, res.Broadcast.Media)
	asks := f.to(admin, "broadcast_approval")
	require.Len(t, asks, 1)
	assert.Equal(t, m.SHA256, asks[0].Media.SHA256, "the approver sees the poster")
	assert.Contains(t, asks[0].Text, "walk.png", "and the request names it")
	assert.Equal(t, m.SHA256, f.audit("broadcast_created")[0].Details["media"])

	_, err = f.co.Broadcasts.Approve(ctx, f.actor(admin), res.Broadcast.ID)
	require.NoError(t, err)
	bulk := f.bulkOf(res.Broadcast.ID)
	require.Len(t, bulk, 4)
	for _, e := range bulk {
		require.NotNil(t, e.Media, "every copy carries the file")
		assert.Equal(t, m.SHA256, e.Media.SHA256)
	}

	missing := &store.Media{SHA256: strings.Repeat("0", 64), Kind: bot.MediaImage, Name: "x.png"}
	_, err = f.co.Broadcasts.Submit(ctx, f.actor(author), coalition.BroadcastDraft{TextAR: "انضموا", Audience: governorate("jenin"), Media: missing})
	var invalid *coalition.InvalidError
	require.ErrorAs(t, err, &invalid)
	assert.Equal(t, "media", invalid.Field)
}

func TestCampaignFile(t *testing.T) {
	ctx := context.Background()
	f, _ := mediaFixture(t)
	coord := f.person(store.RoleCoordinator)
	c := f.campaign("walk", store.KindPledge, 10)
	m, err := f.co.Media.Keep(ctx, f.actor(coord), "walk.png", bytes.NewReader(testPoster(t)))
	require.NoError(t, err)
	_, err = f.co.Campaigns.SetMedia(ctx, f.actor(f.person(store.RoleMember)), c.ID, m)
	assert.ErrorIs(t, err, coalition.ErrNotAllowed)
	got, err := f.co.Campaigns.SetMedia(ctx, f.actor(coord), c.ID, m)
	require.NoError(t, err)
	assert.Equal(t, m, got.Media)
	stored, err := f.st.Campaign(ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, m, stored.Media)
	assert.Equal(t, m.SHA256, f.audit("campaign_media")[0].Details["sha256"])
	got, err = f.co.Campaigns.SetMedia(ctx, f.actor(coord), c.ID, nil)
	require.NoError(t, err)
	assert.Nil(t, got.Media)
}

func TestMediaLine(t *testing.T) {
	w := newFixture(t).co.Words()
	m := &store.Media{Kind: bot.MediaDocument, Name: "statement.pdf", Size: 340 * 1024}
	assert.Equal(t, "📎 PDF document: \u2068statement.pdf\u2069 (340 KB)", w.MediaLine("en", m))
	assert.Contains(t, w.MediaLine("ar", m), "٣٤٠ ك.ب")
	m.Kind, m.Size = bot.MediaVideo, 5<<20+1
	assert.Equal(t, "📎 Video: \u2068statement.pdf\u2069 (6 MB)", w.MediaLine("en", m))
}

// An institution's people attach files within its scope, as they run its
// campaigns and calls: a poster to a campaign their institution leads,
// and never to another institution's.
func TestInstitutionPeopleAttachFilesWithinTheirScope(t *testing.T) {
	ctx := context.Background()
	f, files := mediaFixture(t)
	dialogue, forum := f.institution("Dialogue Centre"), f.institution("Peace Forum")
	coord := f.coordinatorOf(dialogue)
	own := f.mustOrgCampaign(f.actor(dialogue.rep), store.OrganisedBy(dialogue.inst.ID))
	theirs := f.mustOrgCampaign(f.actor(forum.rep), store.OrganisedBy(forum.inst.ID))

	for _, who := range []*store.Contact{dialogue.rep, coord} {
		m, err := f.co.Media.Keep(ctx, f.actor(who), "p.png", bytes.NewReader(testPoster(t)))
		require.NoError(t, err, "an institution's people keep files")
		require.True(t, files.Has(m.SHA256))
		got, err := f.co.Campaigns.SetMedia(ctx, f.actor(who), own.ID, m)
		require.NoError(t, err, "on their institution's campaign")
		assert.Equal(t, m.SHA256, got.Media.SHA256)

		_, err = f.co.Campaigns.SetMedia(ctx, f.actor(who), theirs.ID, m)
		assert.ErrorIs(t, err, coalition.ErrNotAllowed, "not on another institution's")
		c, err := f.st.Campaign(ctx, theirs.ID)
		require.NoError(t, err)
		assert.Nil(t, c.Media, "nothing changed")
	}
	_, err := f.co.Media.Keep(ctx, f.actor(f.person(store.RoleCitizen)), "p.png", bytes.NewReader(testPoster(t)))
	assert.ErrorIs(t, err, coalition.ErrNotAllowed, "a citizen keeps no file")
}
