package postgres

import (
	"context"
	"testing"
	"time"

	"mobilise/bot"
	"mobilise/store"

	"github.com/stretchr/testify/require"
)

// The objects of migration 25, the anonymous answers of people forgotten,
// which TestMigrations applies, reverses and applies again like every other.
func init() {
	schemaObjects[25] = []string{
		"table forgotten_poll_answers", "sequence forgotten_poll_answers_id_seq",
		"constraint forgotten_poll_answers_pkey", "constraint forgotten_poll_answers_poll_id_fkey",
		"constraint forgotten_poll_answers_option_check",
		"index forgotten_poll_answers_pkey", "index forgotten_poll_answers_option_idx",
	}
}

// TestMigrationForgetsLeftAnswers builds, at schema 24, what ForgetContact
// used to leave: the answers and asked marks of people forgotten, with
// their contact IDs and details. Migration 25 makes those answers
// anonymous and deletes the marks, and leaves the answers of people still
// there, and of accounts merged into them, as they were.
func TestMigrationForgetsLeftAnswers(t *testing.T) {
	ctx := context.Background()
	s, pool, m := unmigrated(t, newDatabase(t))
	require.NoError(t, m.Migrate(24))

	p := &store.Poll{Kind: store.PollQuestion, QuestionAR: "هل تشارك؟", Options: []store.PollOption{{AR: "نعم"}, {AR: "لا"}},
		Audience: store.Audience{Kind: store.AudienceEveryone}}
	require.NoError(t, s.CreatePoll(ctx, p))
	contact := func(a string) uint64 {
		c, _, err := s.EnsureContact(ctx, bot.MustParseAddress(a), "", "ar")
		require.NoError(t, err)
		return c.ID
	}
	gone, stays, keep, merged, goneKeep, goneMerged := contact("telegram:1"), contact("telegram:2"), contact("telegram:3"),
		contact("telegram:4"), contact("telegram:5"), contact("telegram:6")
	at := time.Date(2026, 3, 4, 18, 0, 0, 0, time.UTC)
	for i, id := range []uint64{gone, stays, merged, goneMerged} {
		_, err := s.AnswerPoll(ctx, store.PollAnswer{PollID: p.ID, ContactID: id, Option: 1, At: at.Add(time.Duration(i) * time.Minute),
			Governorate: "nablus", Lang: "ar", Channel: bot.Telegram, Campaigns: []uint64{9}, Institution: uint64(20 + i)})
		require.NoError(t, err)
	}
	require.NoError(t, s.MarkAsked(ctx, p.ID, []uint64{gone, stays, merged, goneMerged}, time.Unix(1000, 0)))
	// schema 24's merge left the merged account's answer and mark under its ID
	for _, pair := range [][2]uint64{{merged, keep}, {goneMerged, goneKeep}} {
		_, err := pool.Exec(ctx, `INSERT INTO aliases (id, contact_id) VALUES ($1, $2)`, pair[0], pair[1])
		require.NoError(t, err)
		_, err = pool.Exec(ctx, `DELETE FROM contacts WHERE id = $1`, pair[0])
		require.NoError(t, err)
	}
	for _, id := range []uint64{gone, goneKeep} {
		_, err := pool.Exec(ctx, `DELETE FROM contacts WHERE id = $1`, id) // what schema 24's ForgetContact did to polls
		require.NoError(t, err)
	}

	require.NoError(t, m.Migrate(25))

	var left []int64
	rows, err := pool.Query(ctx, `SELECT contact_id FROM poll_answers ORDER BY contact_id`)
	require.NoError(t, err)
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		left = append(left, id)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []int64{int64(stays), int64(merged)}, left, "the answers of the people still there, merged accounts' too")
	for id, want := range map[uint64]bool{gone: false, goneMerged: false, stays: true, merged: true} {
		_, ok, err := s.Asked(ctx, p.ID, id)
		require.NoError(t, err)
		require.Equal(t, want, ok, "asked mark of contact %d", id)
	}
	var answers []store.PollAnswer
	require.NoError(t, s.PollAnswers(ctx, p.ID, func(a *store.PollAnswer) error {
		answers = append(answers, *a)
		return nil
	}))
	require.Len(t, answers, 4)
	require.Equal(t, []uint64{stays, merged}, []uint64{answers[0].ContactID, answers[1].ContactID})
	require.Equal(t, []store.PollAnswer{
		{PollID: p.ID, Option: 1, At: at, Institution: 20},
		{PollID: p.ID, Option: 1, At: at.Add(3 * time.Minute), Institution: 23},
	}, answers[2:], "anonymous, in contact order, with nothing of the people")
	r, err := s.PollResults(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, store.PollCounts{Asked: 4, Options: []int{0, 4}}, r.Counts, "the counts stay")
	require.Equal(t, store.Tally{"nablus": {0, 2}, "": {0, 2}}, r.ByGovernorate)
	require.Equal(t, store.Tally{"9": {0, 2}, "": {0, 2}}, r.ByCampaign)
}
