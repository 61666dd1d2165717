package chat_test

import (
	"context"
	mrand "math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mobilise/bot/coalition"
	"mobilise/store/postgres"
	"mobilise/store/postgres/pgtest"
)

// TestTranscriptsOnPostgres runs the conversations' golden transcripts on
// the PostgreSQL store: the same people typing get the same answers, in the
// same order, as on the bbolt file. It needs a PostgreSQL server (pgtest).
func TestTranscriptsOnPostgres(t *testing.T) {
	if *update {
		t.Skip("the transcripts are written from the bbolt store")
	}
	for _, name := range []string{
		"onboarding_ar.txt", "onboarding_en.txt", "register_ar.txt", "register_en.txt",
		"campaign_ar.txt", "campaign_en.txt", "bad_input.txt", "lifecycle_ar.txt", "lifecycle_en.txt",
		"remind_ar.txt", "remind_en.txt", "institution_ar.txt", "institution_en.txt",
		"institution_joint_ar.txt", "institution_joint_en.txt", "standing_ar.txt", "standing_en.txt",
	} {
		t.Run(name, func(t *testing.T) {
			newTranscriptOnPostgres(t).check(name)
		})
	}
}

// newTranscriptOnPostgres is newTranscript on a PostgreSQL database of the
// test's own.
func newTranscriptOnPostgres(t *testing.T) *transcript {
	t.Helper()
	h := &transcript{t: t, path: filepath.Join(t.TempDir(), "mobilise.db"), now: testNow,
		options: []coalition.Option{coalition.WithRandom(mrand.NewChaCha8([32]byte{'c', 'h', 'a', 't'}))}}
	st, err := postgres.Open(context.Background(), pgtest.NewDatabase(t), postgres.WithNow(func() time.Time { return h.now }))
	require.NoError(t, err)
	h.st = st
	t.Cleanup(func() { _ = h.st.Close() })
	return h
}
