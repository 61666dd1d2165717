package conform

import (
	"context"
	"errors"
	"testing"
	"time"

	"mobilise/bot"

	"github.com/stretchr/testify/require"
)

// MediaBackend is a Backend with the platforms' references to uploaded
// files (bot.Uploads).
type MediaBackend interface {
	Backend
	bot.Uploads
}

// RunMedia runs the tests of the platforms' references to uploaded files,
// each on a new, empty backend from open.
func RunMedia(t *testing.T, open func(t *testing.T) MediaBackend) {
	t.Run("Uploads", func(t *testing.T) { testUploads(t, open(t)) })
}

func testUploads(t *testing.T, b MediaBackend) {
	const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	const tg, wa = "telegram:123456", "whatsapp:970590000000"
	_, ok, err := b.Upload(ctx, tg, sha)
	require.NoError(t, err)
	require.False(t, ok)

	at := time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.UTC)
	require.NoError(t, b.SaveUpload(ctx, tg, sha, bot.Upload{Ref: "AgACAgQAAxkBAAIB", At: at}))
	require.NoError(t, b.SaveUpload(ctx, wa, sha, bot.Upload{Ref: "wamid-1", At: at, Expires: at.Add(30 * 24 * time.Hour)}))
	u, ok, err := b.Upload(ctx, tg, sha)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "AgACAgQAAxkBAAIB", u.Ref)
	require.True(t, u.At.Equal(at), "to the nanosecond")
	require.True(t, u.Expires.IsZero())
	u, ok, err = b.Upload(ctx, wa, sha)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "wamid-1", u.Ref, "each account has its own")
	require.True(t, u.Expires.Equal(at.Add(30*24*time.Hour)))
	_, ok, err = b.Upload(ctx, tg, "0"+sha[1:])
	require.NoError(t, err)
	require.False(t, ok, "another file")

	// saved again replaces it, idempotently
	later := at.Add(time.Hour)
	require.NoError(t, b.SaveUpload(ctx, wa, sha, bot.Upload{Ref: "wamid-2", At: later}))
	require.NoError(t, b.SaveUpload(ctx, wa, sha, bot.Upload{Ref: "wamid-2", At: later}))
	u, _, err = b.Upload(ctx, wa, sha)
	require.NoError(t, err)
	require.Equal(t, "wamid-2", u.Ref)
	require.True(t, u.Expires.IsZero())

	require.Error(t, b.SaveUpload(ctx, "", sha, bot.Upload{Ref: "x"}), "an upload needs an account")
	require.Error(t, b.SaveUpload(ctx, "tele\x00gram", sha, bot.Upload{Ref: "x"}))

	require.NoError(t, b.ForgetUpload(ctx, wa, sha))
	require.NoError(t, b.ForgetUpload(ctx, wa, sha), "forgetting one that is gone is no error")
	_, ok, err = b.Upload(ctx, wa, sha)
	require.NoError(t, err)
	require.False(t, ok)
	_, ok, err = b.Upload(ctx, tg, sha)
	require.NoError(t, err)
	require.True(t, ok, "the other account's stays")

	// an upload saved in a unit of work that fails is not kept
	boom := errors.New("boom")
	err = b.InTx(ctx, func(ctx context.Context) error {
		if err := b.SaveUpload(ctx, wa, sha, bot.Upload{Ref: "wamid-3", At: later}); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	_, ok, err = b.Upload(ctx, wa, sha)
	require.NoError(t, err)
	require.False(t, ok)
}
