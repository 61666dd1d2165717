package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"mobilise/bot"
)

// consenting makes a contact who agreed to messages, in gov, speaking lang.
func consenting(t *testing.T, s *Store, addr, gov, lang string) *Contact {
	t.Helper()
	ctx := context.Background()
	c, _, err := s.EnsureContact(ctx, bot.MustParseAddress(addr), "", lang)
	require.NoError(t, err)
	c, err = s.UpdateContact(ctx, c.ID, func(c *Contact) error {
		c.Consent, c.Governorate = true, gov
		return nil
	})
	require.NoError(t, err)
	return c
}

func threeOptions() []PollOption {
	return []PollOption{{AR: "نعم", EN: "Yes"}, {AR: "لا", EN: "No"}, {AR: "ربما", EN: "Maybe"}}
}

func TestPollAnswersOnePerPersonAndCountsInTheSameTransaction(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	p := &Poll{Kind: PollQuestion, QuestionAR: "هل تشارك؟", Options: threeOptions(), Audience: Audience{Kind: AudienceEveryone}, BroadcastID: 7}
	require.NoError(t, s.CreatePoll(ctx, p))
	require.NotZero(t, p.ID)
	byBroadcast, err := s.PollOfBroadcast(ctx, 7)
	require.NoError(t, err)
	assert.Equal(t, p.ID, byBroadcast.ID)
	_, err = s.PollOfBroadcast(ctx, 8)
	assert.ErrorIs(t, err, ErrNotFound)

	a := consenting(t, s, "telegram:1", "nablus", "ar")
	b := consenting(t, s, "telegram:2", "jenin", "en")
	require.NoError(t, s.MarkAsked(ctx, p.ID, []uint64{a.ID, b.ID}, time.Unix(1000, 0)))
	require.NoError(t, s.MarkAsked(ctx, p.ID, []uint64{a.ID}, time.Unix(2000, 0)), "marking again")
	at, ok, err := s.Asked(ctx, p.ID, a.ID)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, int64(1000), at.Unix(), "the first time is kept")

	res, err := s.AnswerPoll(ctx, PollAnswer{PollID: p.ID, ContactID: a.ID, Option: 0, Governorate: "nablus", Lang: "ar", Channel: "telegram"})
	require.NoError(t, err)
	assert.Equal(t, -1, res.Previous)
	assert.Equal(t, PollCounts{Asked: 2, Options: []int{1, 0, 0}}, res.Counts)
	_, err = s.AnswerPoll(ctx, PollAnswer{PollID: p.ID, ContactID: b.ID, Option: 0, Governorate: "jenin", Lang: "en", Channel: "telegram", Campaigns: []uint64{4}})
	require.NoError(t, err)

	// a changed answer moves, it is not added
	res, err = s.AnswerPoll(ctx, PollAnswer{PollID: p.ID, ContactID: a.ID, Option: 2, Governorate: "nablus", Lang: "ar", Channel: "telegram"})
	require.NoError(t, err)
	assert.Equal(t, 0, res.Previous)
	assert.Equal(t, []int{1, 0, 1}, res.Counts.Options)
	got, err := s.PollAnswerOf(ctx, p.ID, a.ID)
	require.NoError(t, err)
	assert.Equal(t, 2, got.Option)

	_, err = s.AnswerPoll(ctx, PollAnswer{PollID: p.ID, ContactID: a.ID, Option: 3})
	assert.ErrorIs(t, err, ErrNoSuchOption)
	_, err = s.AnswerPoll(ctx, PollAnswer{PollID: 99, ContactID: a.ID})
	assert.ErrorIs(t, err, ErrNotFound)

	r, err := s.PollResults(ctx, p.ID)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 0, 1}, r.Counts.Options)
	assert.Equal(t, Tally{"nablus": {0, 0, 1}, "jenin": {1, 0, 0}}, r.ByGovernorate)
	assert.Equal(t, Tally{"ar": {0, 0, 1}, "en": {1, 0, 0}}, r.ByLang)
	assert.Equal(t, Tally{"telegram": {1, 0, 1}}, r.ByChannel)
	assert.Equal(t, Tally{"4": {1, 0, 0}, "": {0, 0, 1}}, r.ByCampaign)
}

func TestAudienceOfAPollAnswerIsAPrefixScan(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	p := &Poll{Kind: PollQuestion, QuestionAR: "؟", Options: threeOptions(), Audience: Audience{Kind: AudienceEveryone}}
	require.NoError(t, s.CreatePoll(ctx, p))
	var yes []uint64
	for i := range 6 {
		c := consenting(t, s, fmt.Sprintf("telegram:%d", i+1), "gaza", "ar")
		opt := i % 2
		_, err := s.AnswerPoll(ctx, PollAnswer{PollID: p.ID, ContactID: c.ID, Option: opt})
		require.NoError(t, err)
		if opt == 0 {
			yes = append(yes, c.ID)
		}
	}
	stopped := consenting(t, s, "telegram:50", "gaza", "ar")
	_, err := s.AnswerPoll(ctx, PollAnswer{PollID: p.ID, ContactID: stopped.ID, Option: 0})
	require.NoError(t, err)
	_, err = s.UpdateContact(ctx, stopped.ID, func(c *Contact) error { c.Stopped = true; return nil })
	require.NoError(t, err)

	rs, err := s.Recipients(ctx, Audience{Kind: AudiencePollAnswer, PollID: p.ID, Option: 0}, nil)
	require.NoError(t, err)
	var got []uint64
	for _, r := range rs {
		got = append(got, r.ContactID)
	}
	assert.Equal(t, yes, got, "the answerers of the option who still take messages")

	// the scan reads the option's keys only: the index is the key itself
	require.NoError(t, s.DB().View(func(tx *bbolt.Tx) error {
		assert.Equal(t, 4, countPrefix(tx.Bucket(bucketPollAnswers), optionPrefix(p.ID, 0)))
		assert.Equal(t, 3, countPrefix(tx.Bucket(bucketPollAnswers), optionPrefix(p.ID, 1)))
		return nil
	}))

	_, err = s.Recipients(ctx, Audience{Kind: AudiencePollAnswer, PollID: 99}, nil)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.Error(t, Audience{Kind: AudiencePollAnswer}.Validate(), "a poll is needed")
	assert.Error(t, Audience{Kind: AudiencePollAnswer, PollID: 1, Option: MaxPollOptions}.Validate())
}

func TestForgetAndMergeKeepPollCountsRight(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	p := &Poll{Kind: PollQuestion, QuestionAR: "؟", Options: threeOptions(), CreatedBy: 0}
	require.NoError(t, s.CreatePoll(ctx, p))
	keep := consenting(t, s, "telegram:1", "nablus", "ar")
	merge := consenting(t, s, "whatsapp:970599000001", "nablus", "ar")
	gone := consenting(t, s, "telegram:3", "hebron", "en")
	other := consenting(t, s, "whatsapp:970599000002", "hebron", "en")
	require.NoError(t, s.MarkAsked(ctx, p.ID, []uint64{keep.ID, merge.ID, gone.ID, other.ID}, time.Unix(5, 0)))
	for _, a := range []PollAnswer{
		{PollID: p.ID, ContactID: keep.ID, Option: 0},
		{PollID: p.ID, ContactID: merge.ID, Option: 1},
		{PollID: p.ID, ContactID: gone.ID, Option: 2, Governorate: "hebron", Lang: "en"},
	} {
		_, err := s.AnswerPoll(ctx, a)
		require.NoError(t, err)
	}

	require.NoError(t, s.ForgetContact(ctx, gone.ID))
	n, err := s.PollCounts(ctx, p.ID)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 1, 1}, n.Options, "a forgotten person's answer stays counted")
	_, ok, err := s.Asked(ctx, p.ID, gone.ID)
	require.NoError(t, err)
	assert.False(t, ok)
	var anon []PollAnswer
	require.NoError(t, s.PollAnswers(ctx, p.ID, func(a *PollAnswer) error {
		if a.ContactID == 0 {
			anon = append(anon, *a)
		}
		return nil
	}))
	require.Len(t, anon, 1)
	assert.Equal(t, PollAnswer{PollID: p.ID, Option: 2, At: anon[0].At}, anon[0], "nothing of the person is left")
	rs, err := s.Recipients(ctx, Audience{Kind: AudiencePollAnswer, PollID: p.ID, Option: 2}, nil)
	require.NoError(t, err)
	assert.Empty(t, rs, "an anonymous answer reaches no one")

	// both accounts answered: the kept one's answer stands
	_, err = s.LinkAddresses(ctx, keep.ID, merge.ID)
	require.NoError(t, err)
	n, err = s.PollCounts(ctx, p.ID)
	require.NoError(t, err)
	assert.Equal(t, PollCounts{Asked: 3, Options: []int{1, 0, 1}}, n, "one person, one answer, asked once")

	a, err := s.PollAnswerOf(ctx, p.ID, keep.ID)
	require.NoError(t, err)
	assert.Equal(t, 0, a.Option)
	_, err = s.PollAnswerOf(ctx, p.ID, merge.ID)
	assert.ErrorIs(t, err, ErrNotFound)
	require.NoError(t, s.Check())
}

func TestAnswerMovesToTheKeptAccount(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	p := &Poll{Kind: PollQuestion, QuestionAR: "؟", Options: threeOptions()}
	require.NoError(t, s.CreatePoll(ctx, p))
	keep := consenting(t, s, "telegram:1", "", "ar")
	merge := consenting(t, s, "whatsapp:970599000001", "", "ar")
	require.NoError(t, s.MarkAsked(ctx, p.ID, []uint64{merge.ID}, time.Unix(5, 0)))
	_, err := s.AnswerPoll(ctx, PollAnswer{PollID: p.ID, ContactID: merge.ID, Option: 1})
	require.NoError(t, err)
	_, err = s.LinkAddresses(ctx, keep.ID, merge.ID)
	require.NoError(t, err)
	a, err := s.PollAnswerOf(ctx, p.ID, keep.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, a.Option)
	assert.Equal(t, keep.ID, a.ContactID)
	_, ok, err := s.Asked(ctx, p.ID, keep.ID)
	require.NoError(t, err)
	assert.True(t, ok, "asked moves with the account")
	n, err := s.PollCounts(ctx, p.ID)
	require.NoError(t, err)
	assert.Equal(t, PollCounts{Asked: 1, Options: []int{0, 1, 0}}, n)
}

func TestAttendancePollIsOnePerCampaign(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	c := campaign(t, s, "walk", 0)
	on, err := s.FollowUp(ctx, c.ID)
	require.NoError(t, err)
	assert.True(t, on, "on unless switched off")
	require.NoError(t, s.SetFollowUp(ctx, c.ID, false))
	on, err = s.FollowUp(ctx, c.ID)
	require.NoError(t, err)
	assert.False(t, on)
	require.NoError(t, s.SetFollowUp(ctx, c.ID, true))
	on, err = s.FollowUp(ctx, c.ID)
	require.NoError(t, err)
	assert.True(t, on)
	assert.ErrorIs(t, s.SetFollowUp(ctx, 99, false), ErrCampaignNotFound)

	p := &Poll{Kind: PollAttendance, CampaignID: c.ID, QuestionAR: "هل حضرت؟", Options: threeOptions()[:2]}
	require.NoError(t, s.CreatePoll(ctx, p))
	again := &Poll{Kind: PollAttendance, CampaignID: c.ID, QuestionAR: "هل حضرت؟", Options: threeOptions()[:2]}
	assert.ErrorIs(t, s.CreatePoll(ctx, again), ErrPollExists, "claimed once, whoever asks")
	got, err := s.AttendancePoll(ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, p.ID, got.ID)
	assert.Error(t, s.CreatePoll(ctx, &Poll{QuestionAR: "؟", Options: threeOptions()[:1]}), "two options at least")

	closed, err := s.UpdatePoll(ctx, p.ID, func(p *Poll) error {
		p.Closed, p.Options = true, nil
		return nil
	})
	require.NoError(t, err)
	assert.True(t, closed.Closed)
	assert.Len(t, closed.Options, 2, "the options cannot change under their answers")
	assert.False(t, closed.Open(time.Now()))
}

func TestCheckFindsPollCountsThatDisagree(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	p := &Poll{Kind: PollQuestion, QuestionAR: "؟", Options: threeOptions()}
	require.NoError(t, s.CreatePoll(ctx, p))
	c := consenting(t, s, "telegram:1", "", "ar")
	_, err := s.AnswerPoll(ctx, PollAnswer{PollID: p.ID, ContactID: c.ID, Option: 1})
	require.NoError(t, err)
	require.NoError(t, s.Check())
	require.NoError(t, s.DB().Update(func(tx *bbolt.Tx) error {
		return putJSON(tx.Bucket(bucketPollCounts), itob(p.ID), PollCounts{Options: []int{1, 0, 0}})
	}))
	err = s.Check()
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("poll %d counts", p.ID))
	// put it right for the end-of-test check
	require.NoError(t, s.DB().Update(func(tx *bbolt.Tx) error {
		return putJSON(tx.Bucket(bucketPollCounts), itob(p.ID), PollCounts{Options: []int{0, 1, 0}})
	}))
}
