package conform

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"mobilise/bot"
	"mobilise/store"

	"github.com/stretchr/testify/require"
)

// PollsBackend is a Backend with polls, their answers and counts, and the
// supporters' lists their audiences may be limited to.
type PollsBackend interface {
	InstitutionsBackend

	CreatePoll(ctx context.Context, p *store.Poll) error
	Poll(ctx context.Context, id uint64) (*store.Poll, error)
	Polls(ctx context.Context) ([]store.Poll, error)
	RecentPolls(ctx context.Context, n int) ([]store.Poll, error)
	PollOfBroadcast(ctx context.Context, broadcastID uint64) (*store.Poll, error)
	AttendancePoll(ctx context.Context, campaignID uint64) (*store.Poll, error)
	UpdatePoll(ctx context.Context, id uint64, fn func(*store.Poll) error) (*store.Poll, error)
	SetFollowUp(ctx context.Context, campaignID uint64, on bool) error
	FollowUp(ctx context.Context, campaignID uint64) (bool, error)
	MarkAsked(ctx context.Context, pollID uint64, contactIDs []uint64, at time.Time) error
	Asked(ctx context.Context, pollID, contactID uint64) (time.Time, bool, error)
	AnswerPoll(ctx context.Context, a store.PollAnswer) (store.PollAnswered, error)
	PollAnswerOf(ctx context.Context, pollID, contactID uint64) (*store.PollAnswer, error)
	ContactPollAnswers(ctx context.Context, contactID uint64) ([]store.PollAnswer, error)
	PollAnswers(ctx context.Context, pollID uint64, fn func(*store.PollAnswer) error) error
	PollCounts(ctx context.Context, pollID uint64) (store.PollCounts, error)
	PollResults(ctx context.Context, pollID uint64) (store.PollResults, error)
}

// RunPolls runs the tests of polls, each on a new, empty backend from open.
func RunPolls(t *testing.T, open func(t *testing.T) PollsBackend) {
	t.Run("Polls", func(t *testing.T) { testPolls(t, open(t)) })
	t.Run("PollAnswers", func(t *testing.T) { testPollAnswers(t, open(t)) })
	t.Run("ConcurrentPollAnswers", func(t *testing.T) { testConcurrentPollAnswers(t, open(t)) })
	t.Run("ConcurrentAttendancePolls", func(t *testing.T) { testConcurrentAttendancePolls(t, open(t)) })
	t.Run("ManyPollAnswers", func(t *testing.T) { testManyPollAnswers(t, open(t)) })
	t.Run("PollAudiences", func(t *testing.T) { testPollAudiences(t, open(t)) })
}

func threeOptions() []store.PollOption {
	return []store.PollOption{{AR: "نعم", EN: "Yes"}, {AR: "لا", EN: "No"}, {AR: "ربما", EN: "Maybe"}}
}

func question(t *testing.T, b PollsBackend, broadcastID uint64) *store.Poll {
	t.Helper()
	p := &store.Poll{Kind: store.PollQuestion, QuestionAR: "هل تشارك؟", Options: threeOptions(), Audience: store.Audience{Kind: store.AudienceEveryone},
		BroadcastID: broadcastID, CreatedBy: 1}
	require.NoError(t, b.CreatePoll(ctx, p))
	return p
}

func pollIDs(ps []store.Poll) []uint64 {
	out := []uint64{}
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

func testPolls(t *testing.T, b PollsBackend) {
	require.Error(t, b.CreatePoll(ctx, &store.Poll{Kind: store.PollQuestion, Options: threeOptions()[:1]}), "one option is no poll")
	require.Error(t, b.CreatePoll(ctx, &store.Poll{Kind: store.PollQuestion, Options: make([]store.PollOption, store.MaxPollOptions+1)}))

	first := question(t, b, 7)
	require.NotZero(t, first.ID)
	require.False(t, first.CreatedAt.IsZero(), "a zero CreatedAt is now")
	second := question(t, b, 7)
	require.Greater(t, second.ID, first.ID)
	got, err := b.PollOfBroadcast(ctx, 7)
	require.NoError(t, err)
	require.Equal(t, second.ID, got.ID, "a broadcast's newest poll is its poll")
	_, err = b.PollOfBroadcast(ctx, 8)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = b.PollOfBroadcast(ctx, 0)
	require.ErrorIs(t, err, store.ErrNotFound)
	loose := question(t, b, 0)

	camp := campaign(t, b, "walk", 0)
	closes := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	att := &store.Poll{Kind: store.PollAttendance, CampaignID: camp.ID, QuestionAR: "هل حضرت؟", Options: threeOptions()[:2],
		BroadcastID: 9, ClosesAt: closes, Organiser: store.OrganisedBy(3, 4)}
	require.NoError(t, b.CreatePoll(ctx, att))
	err = b.CreatePoll(ctx, &store.Poll{Kind: store.PollAttendance, CampaignID: camp.ID, Options: threeOptions()})
	require.ErrorIs(t, err, store.ErrPollExists, "one question after a campaign's event")
	got, err = b.AttendancePoll(ctx, camp.ID)
	require.NoError(t, err)
	require.Equal(t, att.ID, got.ID)
	require.Equal(t, store.PollAttendance, got.Kind)
	require.Equal(t, store.OrganisedBy(3, 4), got.Organiser)
	require.True(t, got.ClosesAt.Equal(closes))
	require.Len(t, got.Options, 2)
	_, err = b.PollOfBroadcast(ctx, 9)
	require.ErrorIs(t, err, store.ErrNotFound, "an attendance poll is found by its campaign only")
	_, err = b.AttendancePoll(ctx, camp.ID+1)
	require.ErrorIs(t, err, store.ErrNotFound)

	got, err = b.Poll(ctx, first.ID)
	require.NoError(t, err)
	require.Equal(t, first.QuestionAR, got.QuestionAR)
	require.Equal(t, first.Options, got.Options)
	require.Equal(t, first.Audience, got.Audience)
	require.True(t, got.CreatedAt.Equal(first.CreatedAt))
	_, err = b.Poll(ctx, att.ID+100)
	require.ErrorIs(t, err, store.ErrNotFound)

	all, err := b.Polls(ctx)
	require.NoError(t, err)
	require.Equal(t, []uint64{first.ID, second.ID, loose.ID, att.ID}, pollIDs(all))
	recent, err := b.RecentPolls(ctx, 2)
	require.NoError(t, err)
	require.Equal(t, []uint64{att.ID, loose.ID}, pollIDs(recent), "newest first")
	recent, err = b.RecentPolls(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, []uint64{att.ID, loose.ID, second.ID, first.ID}, pollIDs(recent))
	recent, err = b.RecentPolls(ctx, 0)
	require.NoError(t, err)
	require.Empty(t, recent)

	// fn cannot change the ID or the options; its error writes nothing
	now := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	got, err = b.UpdatePoll(ctx, first.ID, func(p *store.Poll) error {
		p.ID, p.Options = 99, threeOptions()[:2]
		p.Closed, p.ClosedBy, p.ClosedAt = true, 2, now
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, first.ID, got.ID)
	require.Len(t, got.Options, 3)
	got, err = b.Poll(ctx, first.ID)
	require.NoError(t, err)
	require.True(t, got.Closed)
	require.Len(t, got.Options, 3)
	require.False(t, got.Open(now))
	boom := errors.New("boom")
	_, err = b.UpdatePoll(ctx, second.ID, func(p *store.Poll) error { p.Closed = true; return boom })
	require.ErrorIs(t, err, boom)
	err = b.InTx(ctx, func(ctx context.Context) error {
		if _, err := b.UpdatePoll(ctx, second.ID, func(p *store.Poll) error { p.Closed = true; return nil }); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	got, err = b.Poll(ctx, second.ID)
	require.NoError(t, err)
	require.False(t, got.Closed)
	_, err = b.UpdatePoll(ctx, att.ID+100, func(*store.Poll) error { return nil })
	require.ErrorIs(t, err, store.ErrNotFound)

	// the question after an event, switched off and on
	on, err := b.FollowUp(ctx, camp.ID)
	require.NoError(t, err)
	require.True(t, on, "on unless switched off")
	require.NoError(t, b.SetFollowUp(ctx, camp.ID, false))
	require.NoError(t, b.SetFollowUp(ctx, camp.ID, false))
	on, err = b.FollowUp(ctx, camp.ID)
	require.NoError(t, err)
	require.False(t, on)
	require.NoError(t, b.SetFollowUp(ctx, camp.ID, true))
	on, err = b.FollowUp(ctx, camp.ID)
	require.NoError(t, err)
	require.True(t, on)
	require.ErrorIs(t, b.SetFollowUp(ctx, camp.ID+9, false), store.ErrCampaignNotFound)
}

func testPollAnswers(t *testing.T, b PollsBackend) {
	p := question(t, b, 7)
	other := question(t, b, 8)
	a := person(t, b, "telegram:1", consenting("nablus", "ar"))
	c := person(t, b, "telegram:2", consenting("jenin", "en"))
	d := person(t, b, "whatsapp:9703", consenting("gaza", "ar"))

	require.NoError(t, b.MarkAsked(ctx, p.ID, []uint64{a.ID, c.ID, c.ID}, time.Unix(1000, 0)))
	require.NoError(t, b.MarkAsked(ctx, p.ID, []uint64{a.ID}, time.Unix(2000, 0)), "marking again")
	at, ok, err := b.Asked(ctx, p.ID, a.ID)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, int64(1000), at.Unix(), "the first time is kept")
	_, ok, err = b.Asked(ctx, p.ID, d.ID)
	require.NoError(t, err)
	require.False(t, ok)
	_, ok, err = b.Asked(ctx, other.ID, a.ID)
	require.NoError(t, err)
	require.False(t, ok)
	require.ErrorIs(t, b.MarkAsked(ctx, other.ID+100, []uint64{a.ID}, time.Unix(1000, 0)), store.ErrNotFound)
	counts, err := b.PollCounts(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, store.PollCounts{Asked: 2, Options: []int{0, 0, 0}}, counts, "each person asked counts once")

	res, err := b.AnswerPoll(ctx, store.PollAnswer{PollID: p.ID, ContactID: a.ID, Option: 0, Governorate: "nablus", Lang: "ar", Channel: bot.Telegram})
	require.NoError(t, err)
	require.Equal(t, -1, res.Previous)
	require.Equal(t, store.PollCounts{Asked: 2, Options: []int{1, 0, 0}}, res.Counts)
	_, err = b.AnswerPoll(ctx, store.PollAnswer{PollID: p.ID, ContactID: c.ID, Option: 0, Governorate: "jenin", Lang: "en", Channel: bot.Telegram,
		Campaigns: []uint64{4, 5}, Institution: 3})
	require.NoError(t, err)
	_, err = b.AnswerPoll(ctx, store.PollAnswer{PollID: p.ID, ContactID: d.ID, Option: 1, Governorate: "gaza", Lang: "ar", Channel: bot.WhatsApp,
		Campaigns: []uint64{4}})
	require.NoError(t, err)
	_, err = b.AnswerPoll(ctx, store.PollAnswer{PollID: other.ID, ContactID: a.ID, Option: 1})
	require.NoError(t, err)

	// a changed answer moves, it is not added
	res, err = b.AnswerPoll(ctx, store.PollAnswer{PollID: p.ID, ContactID: a.ID, Option: 2, Governorate: "nablus", Lang: "ar", Channel: bot.Telegram})
	require.NoError(t, err)
	require.Equal(t, 0, res.Previous)
	require.Equal(t, []int{1, 1, 1}, res.Counts.Options)
	got, err := b.PollAnswerOf(ctx, p.ID, a.ID)
	require.NoError(t, err)
	require.Equal(t, 2, got.Option)
	require.Equal(t, a.ID, got.ContactID)
	require.False(t, got.At.IsZero(), "a zero At is now")
	got, err = b.PollAnswerOf(ctx, p.ID, c.ID)
	require.NoError(t, err)
	require.Equal(t, []uint64{4, 5}, got.Campaigns)
	require.Equal(t, uint64(3), got.Institution)
	_, err = b.PollAnswerOf(ctx, other.ID, c.ID)
	require.ErrorIs(t, err, store.ErrNotFound)

	_, err = b.AnswerPoll(ctx, store.PollAnswer{PollID: p.ID, ContactID: a.ID, Option: 3})
	require.ErrorIs(t, err, store.ErrNoSuchOption)
	_, err = b.AnswerPoll(ctx, store.PollAnswer{PollID: p.ID, ContactID: a.ID, Option: -1})
	require.ErrorIs(t, err, store.ErrNoSuchOption)
	_, err = b.AnswerPoll(ctx, store.PollAnswer{PollID: other.ID + 100, ContactID: a.ID})
	require.ErrorIs(t, err, store.ErrNotFound, "no such poll")
	_, err = b.AnswerPoll(ctx, store.PollAnswer{PollID: p.ID, ContactID: d.ID + 100})
	require.ErrorIs(t, err, store.ErrNotFound, "no such person")
	_, err = b.AnswerPoll(ctx, store.PollAnswer{PollID: p.ID})
	require.Error(t, err, "an answer needs a person")
	_, err = b.PollCounts(ctx, other.ID+100)
	require.ErrorIs(t, err, store.ErrNotFound)

	// an answer in a unit of work that fails moves no count
	boom := errors.New("boom")
	err = b.InTx(ctx, func(ctx context.Context) error {
		if _, err := b.AnswerPoll(ctx, store.PollAnswer{PollID: p.ID, ContactID: d.ID, Option: 0}); err != nil {
			return err
		}
		counts, err := b.PollCounts(ctx, p.ID)
		if err != nil {
			return err
		}
		if fmt.Sprint(counts.Options) != "[2 0 1]" {
			return fmt.Errorf("inside the unit of work: counts %v, want [2 0 1]", counts.Options)
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	counts, err = b.PollCounts(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, store.PollCounts{Asked: 2, Options: []int{1, 1, 1}}, counts)
	require.Equal(t, 3, counts.Answered())
	got, err = b.PollAnswerOf(ctx, p.ID, d.ID)
	require.NoError(t, err)
	require.Equal(t, 1, got.Option)

	mine, err := b.ContactPollAnswers(ctx, a.ID)
	require.NoError(t, err)
	require.Len(t, mine, 2)
	require.Equal(t, []uint64{p.ID, other.ID}, []uint64{mine[0].PollID, mine[1].PollID}, "in poll order")
	require.Equal(t, []int{2, 1}, []int{mine[0].Option, mine[1].Option})
	mine, err = b.ContactPollAnswers(ctx, d.ID+100)
	require.NoError(t, err)
	require.Empty(t, mine)

	var seen []string
	require.NoError(t, b.PollAnswers(ctx, p.ID, func(a *store.PollAnswer) error {
		seen = append(seen, fmt.Sprintf("%d:%d", a.Option, a.ContactID))
		return nil
	}))
	require.Equal(t, []string{fmt.Sprintf("0:%d", c.ID), fmt.Sprintf("1:%d", d.ID), fmt.Sprintf("2:%d", a.ID)}, seen, "by option")
	stop := errors.New("enough")
	seen = nil
	err = b.PollAnswers(ctx, p.ID, func(a *store.PollAnswer) error {
		seen = append(seen, fmt.Sprint(a.ContactID))
		return stop
	})
	require.Equal(t, stop, err, "fn's error as it is")
	require.Len(t, seen, 1)

	r, err := b.PollResults(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, store.PollCounts{Asked: 2, Options: []int{1, 1, 1}}, r.Counts)
	require.Equal(t, store.Tally{"nablus": {0, 0, 1}, "jenin": {1, 0, 0}, "gaza": {0, 1, 0}}, r.ByGovernorate)
	require.Equal(t, store.Tally{"ar": {0, 1, 1}, "en": {1, 0, 0}}, r.ByLang)
	require.Equal(t, store.Tally{"telegram": {1, 0, 1}, "whatsapp": {0, 1, 0}}, r.ByChannel)
	require.Equal(t, store.Tally{"4": {1, 1, 0}, "5": {1, 0, 0}, "": {0, 0, 1}}, r.ByCampaign)
	r, err = b.PollResults(ctx, other.ID)
	require.NoError(t, err)
	require.Equal(t, store.Tally{"": {0, 1, 0}}, r.ByGovernorate, "an unknown detail counts under \"\"")
	empty := question(t, b, 0)
	r, err = b.PollResults(ctx, empty.ID)
	require.NoError(t, err)
	require.Equal(t, store.PollCounts{Options: []int{0, 0, 0}}, r.Counts)
	require.Empty(t, r.ByGovernorate)
	_, err = b.PollResults(ctx, empty.ID+100)
	require.ErrorIs(t, err, store.ErrNotFound)
}

// testConcurrentPollAnswers has people answer at once, each several times
// with different options, and marks them asked from overlapping batches
// at once: the counts are exactly the answers standing and the people asked.
func testConcurrentPollAnswers(t *testing.T, b PollsBackend) {
	p := question(t, b, 7)
	const people, tries = 24, 4
	var ids []uint64
	for i := range people {
		ids = append(ids, person(t, b, fmt.Sprintf("telegram:%d", 100+i), consenting("gaza", "ar")).ID)
	}
	var wg sync.WaitGroup
	errs := make(chan error, people*tries+8)
	for i, id := range ids {
		for try := range tries {
			wg.Go(func() {
				if _, err := b.AnswerPoll(ctx, store.PollAnswer{PollID: p.ID, ContactID: id, Option: (i + try) % 3}); err != nil {
					errs <- err
				}
			})
		}
	}
	for batch := range 8 {
		wg.Go(func() {
			lo := batch * people / 8
			if err := b.MarkAsked(ctx, p.ID, ids[lo:min(lo+people/4, people)], time.Unix(int64(1000+batch), 0)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	standing := make([]int, 3)
	answered := 0
	require.NoError(t, b.PollAnswers(ctx, p.ID, func(a *store.PollAnswer) error {
		standing[a.Option]++
		answered++
		return nil
	}))
	require.Equal(t, people, answered, "one answer per person")
	counts, err := b.PollCounts(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, store.PollCounts{Asked: people, Options: standing}, counts)
	for _, id := range ids {
		_, ok, err := b.Asked(ctx, p.ID, id)
		require.NoError(t, err)
		require.True(t, ok)
	}
}

func testPollAudiences(t *testing.T, b PollsBackend) {
	p := question(t, b, 0)
	inst := member(t, b, "Dialogue Centre")
	var yes []*store.Contact
	for i := range 6 {
		a := fmt.Sprintf("telegram:%d", i+1)
		if i == 4 {
			a = "whatsapp:9705"
		}
		c := person(t, b, a, consenting("gaza", "ar"))
		opt := i % 2
		_, err := b.AnswerPoll(ctx, store.PollAnswer{PollID: p.ID, ContactID: c.ID, Option: opt})
		require.NoError(t, err)
		if opt == 0 {
			yes = append(yes, c)
		}
	}
	stopped := person(t, b, "telegram:50", consenting("gaza", "ar"))
	_, err := b.AnswerPoll(ctx, store.PollAnswer{PollID: p.ID, ContactID: stopped.ID, Option: 0})
	require.NoError(t, err)
	_, err = b.UpdateContact(ctx, stopped.ID, func(c *store.Contact) error { c.Stopped = true; return nil })
	require.NoError(t, err)
	silent := person(t, b, "telegram:51", nil)
	_, err = b.AnswerPoll(ctx, store.PollAnswer{PollID: p.ID, ContactID: silent.ID, Option: 0})
	require.NoError(t, err)

	tg, wa := bot.Telegram, bot.WhatsApp
	check := func(aud store.Audience, want map[bot.ChannelName]int) {
		t.Helper()
		got, err := b.CountAudience(ctx, aud, nil)
		require.NoError(t, err, "%+v", aud)
		total := 0
		for _, n := range want {
			total += n
		}
		require.Equal(t, want, got.PerChannel, "%+v", aud)
		require.Equal(t, total, got.Total, "%+v", aud)
	}
	answered := func(option int) store.Audience {
		return store.Audience{Kind: store.AudiencePollAnswer, PollID: p.ID, Option: option}
	}
	check(answered(0), map[bot.ChannelName]int{tg: 2, wa: 1})
	listed(t, b, answered(0), yes[0].ID, yes[1].ID, yes[2].ID)
	check(answered(1), map[bot.ChannelName]int{tg: 3})
	check(answered(2), map[bot.ChannelName]int{})
	_, err = b.CountAudience(ctx, store.Audience{Kind: store.AudiencePollAnswer, PollID: p.ID + 100}, nil)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = b.CountAudience(ctx, store.Audience{Kind: store.AudiencePollAnswer}, nil)
	require.Error(t, err, "a poll is needed")

	// a changed answer moves the person; an institution's supporters narrow it
	_, err = b.AnswerPoll(ctx, store.PollAnswer{PollID: p.ID, ContactID: yes[0].ID, Option: 2})
	require.NoError(t, err)
	check(answered(0), map[bot.ChannelName]int{tg: 1, wa: 1})
	check(answered(2), map[bot.ChannelName]int{tg: 1})
	for _, c := range []*store.Contact{yes[0], yes[2], stopped} {
		_, err := b.AddSupporter(ctx, store.Support{InstitutionID: inst.ID, ContactID: c.ID, Via: store.ViaPoll}, false)
		require.NoError(t, err)
	}
	check(store.Audience{Kind: store.AudiencePollAnswer, PollID: p.ID, Option: 0, Institution: inst.ID}, map[bot.ChannelName]int{wa: 1})
	listed(t, b, store.Audience{Kind: store.AudiencePollAnswer, PollID: p.ID, Option: 0, Institution: inst.ID}, yes[2].ID)
	listed(t, b, answered(0), yes[1].ID, yes[2].ID)
	check(store.Audience{Kind: store.AudiencePollAnswer, PollID: p.ID, Option: 2, Institution: inst.ID}, map[bot.ChannelName]int{tg: 1})
	check(store.Audience{Kind: store.AudiencePollAnswer, PollID: p.ID, Option: 1, Institution: inst.ID}, map[bot.ChannelName]int{})

	// counted inside the unit of work that answers
	boom := errors.New("boom")
	err = b.InTx(ctx, func(ctx context.Context) error {
		if _, err := b.AnswerPoll(ctx, store.PollAnswer{PollID: p.ID, ContactID: yes[1].ID, Option: 2}); err != nil {
			return err
		}
		got, err := b.CountAudience(ctx, answered(2), nil)
		if err != nil {
			return err
		}
		if got.Total != 2 {
			return fmt.Errorf("inside the unit of work: %d answered, want 2", got.Total)
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	check(answered(2), map[bot.ChannelName]int{tg: 1})
}

// testConcurrentAttendancePolls creates a campaign's question after its
// event from several goroutines at once: one is created, the others get
// store.ErrPollExists.
func testConcurrentAttendancePolls(t *testing.T, b PollsBackend) {
	camp := campaign(t, b, "walk", 0)
	const creators = 8
	var (
		mu      sync.Mutex
		created []uint64
		wg      sync.WaitGroup
	)
	errs := make(chan error, creators)
	for range creators {
		wg.Go(func() {
			p := &store.Poll{Kind: store.PollAttendance, CampaignID: camp.ID, QuestionAR: "هل حضرت؟", Options: threeOptions()[:2]}
			switch err := b.CreatePoll(ctx, p); {
			case errors.Is(err, store.ErrPollExists):
			case err != nil:
				errs <- err
			default:
				mu.Lock()
				created = append(created, p.ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, created, 1, "one question per campaign")
	got, err := b.AttendancePoll(ctx, camp.ID)
	require.NoError(t, err)
	require.Equal(t, created[0], got.ID)
	all, err := b.Polls(ctx)
	require.NoError(t, err)
	require.Len(t, all, 1, "the refused ones left no poll")
}

// testManyPollAnswers lists more answers than a store reads at a time: each
// once, by option and then contact, with the results to match.
func testManyPollAnswers(t *testing.T, b PollsBackend) {
	p := question(t, b, 0)
	ids := crowd(t, b, longList)
	err := b.InTx(ctx, func(ctx context.Context) error {
		for i, id := range ids {
			if _, err := b.AnswerPoll(ctx, store.PollAnswer{PollID: p.ID, ContactID: id, Option: (i * 7) % 3, Governorate: "gaza"}); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
	var want []string
	for o := range 3 {
		for i, id := range ids {
			if (i*7)%3 == o {
				want = append(want, fmt.Sprintf("%d:%d", o, id))
			}
		}
	}
	var seen []string
	require.NoError(t, b.PollAnswers(ctx, p.ID, func(a *store.PollAnswer) error {
		seen = append(seen, fmt.Sprintf("%d:%d", a.Option, a.ContactID))
		return nil
	}))
	require.Equal(t, want, seen)
	r, err := b.PollResults(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, longList, r.Counts.Answered())
	require.Equal(t, store.Tally{"gaza": r.Counts.Options}, r.ByGovernorate)
	count, err := b.CountAudience(ctx, store.Audience{Kind: store.AudiencePollAnswer, PollID: p.ID, Option: 1}, nil)
	require.NoError(t, err)
	require.Equal(t, r.Counts.Options[1], count.Total)
}
