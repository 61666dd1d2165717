package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

// pollBench is a store of n realistic contacts (fillContacts) and a poll
// of three options that all of them were asked.
func pollBench(b *testing.B, n int) (*Store, *Poll, []uint64) {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"))
	require.NoError(b, err)
	b.Cleanup(func() { require.NoError(b, s.Close()) })
	fillContacts(b, s, n)
	p := &Poll{Kind: PollQuestion, QuestionAR: "هل تشارك؟", Options: []PollOption{{AR: "نعم"}, {AR: "لا"}, {AR: "ربما"}}, Audience: Audience{Kind: AudienceEveryone}}
	require.NoError(b, s.CreatePoll(context.Background(), p))
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = uint64(i + 1)
	}
	return s, p, ids
}

// BenchmarkPollAudience measures what a poll of 100,000 people costs the
// store: marking them asked (in the unit of work that queues the poll),
// one answer (with its counts, in one transaction), and selecting the
// 33,000 who gave one answer for a follow-up (a prefix scan of the
// answers, then their contacts).
//
//	go test -run '^$' -bench BenchmarkPollAudience -benchtime 3x ./store/
func BenchmarkPollAudience(b *testing.B) {
	const n = 100_000
	s, p, ids := pollBench(b, n)
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	b.Run("mark 100k asked", func(b *testing.B) {
		for range b.N {
			fresh := &Poll{Kind: PollQuestion, QuestionAR: p.QuestionAR, Options: p.Options, Audience: p.Audience}
			require.NoError(b, s.CreatePoll(ctx, fresh))
			require.NoError(b, s.MarkAsked(ctx, fresh.ID, ids, at))
		}
	})
	require.NoError(b, s.MarkAsked(ctx, p.ID, ids, at))
	for i, id := range ids {
		if _, err := s.AnswerPoll(ctx, PollAnswer{PollID: p.ID, ContactID: id, Option: i % 3, At: at, Governorate: "nablus", Lang: "ar"}); err != nil {
			b.Fatal(err)
		}
		if i == 2000 {
			break // the rest straight into the buckets, below
		}
	}
	require.NoError(b, s.DB().Update(func(tx *bbolt.Tx) error {
		answers := tx.Bucket(bucketPollAnswers)
		counts := PollCounts{Asked: n, Options: make([]int, 3)}
		for i, id := range ids {
			if i > 2000 {
				if err := putJSON(answers, answerKey(p.ID, i%3, id), PollAnswer{PollID: p.ID, ContactID: id, Option: i % 3, At: at, Governorate: "nablus", Lang: "ar"}); err != nil {
					return err
				}
			}
			counts.Options[i%3]++
		}
		return putJSON(tx.Bucket(bucketPollCounts), itob(p.ID), counts)
	}))
	b.Run("answer", func(b *testing.B) {
		for i := range b.N {
			if _, err := s.AnswerPoll(ctx, PollAnswer{PollID: p.ID, ContactID: ids[i%n], Option: (i + 1) % 3, At: at}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("select the 33k of one answer", func(b *testing.B) {
		for range b.N {
			rs, err := s.Recipients(ctx, Audience{Kind: AudiencePollAnswer, PollID: p.ID, Option: 0}, nil)
			require.NoError(b, err)
			b.ReportMetric(float64(len(rs)), "recipients")
		}
	})
}
