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

// ForgetBackend is a Backend with everything a person leaves behind:
// polls answered and asked, watches, places on institutions' lists and
// roles in them, share codes of merged accounts, pledges and sign-ups.
type ForgetBackend interface {
	PollsBackend
	LinkBackend
}

// RunForget runs the tests of forgetting a person across every domain,
// each on a new, empty backend from open.
func RunForget(t *testing.T, open func(t *testing.T) ForgetBackend) {
	t.Run("ForgetEverywhere", func(t *testing.T) { testForgetEverywhere(t, open(t)) })
	t.Run("ForgetPollAnswers", func(t *testing.T) { testForgetPollAnswers(t, open(t)) })
	t.Run("ConcurrentForgetAndAnswer", func(t *testing.T) { testConcurrentForgetAndAnswer(t, open(t)) })
}

// testForgetEverywhere forgets a person who answered and was asked polls,
// watched a campaign, was on an institution's supporters and people
// lists, had a merged account's share code, pledged and signed up: no read
// finds anything of them afterwards, and every count stays exact.
func testForgetEverywhere(t *testing.T, b ForgetBackend) {
	camp, later := campaign(t, b, "olive", 0), campaign(t, b, "water", 0)
	inst := member(t, b, "Dialogue Centre")
	gone := person(t, b, "telegram:1", func(c *store.Contact) {
		consenting("nablus", "ar")(c)
		c.Addresses = append(c.Addresses, addr("whatsapp:9701"))
	})
	second := person(t, b, "telegram:3", nil) // the same person's other account
	stays := person(t, b, "telegram:2", consenting("gaza", "en"))
	// the other account answered a poll the person did not, before the merge
	early := question(t, b, 6)
	require.NoError(t, b.MarkAsked(ctx, early.ID, []uint64{second.ID}, time.Unix(900, 0)))
	_, err := b.AnswerPoll(ctx, store.PollAnswer{PollID: early.ID, ContactID: second.ID, Option: 2, Governorate: "jenin", Lang: "ar", Channel: bot.Telegram})
	require.NoError(t, err)
	merged, err := b.LinkAddresses(ctx, gone.ID, second.ID)
	require.NoError(t, err)
	require.Equal(t, gone.ID, merged.ID)
	byCode, err := b.ContactByRefCode(ctx, second.RefCode)
	require.NoError(t, err)
	require.Equal(t, gone.ID, byCode.ID, "the merged account's code leads to the person")

	p, q := question(t, b, 7), question(t, b, 8)
	require.NoError(t, b.MarkAsked(ctx, p.ID, []uint64{gone.ID, stays.ID}, time.Unix(1000, 0)))
	require.NoError(t, b.MarkAsked(ctx, q.ID, []uint64{gone.ID}, time.Unix(1000, 0)))
	at := time.Date(2026, 3, 4, 18, 0, 0, 0, time.UTC)
	for _, a := range []store.PollAnswer{
		{PollID: p.ID, ContactID: gone.ID, Option: 1, At: at, Governorate: "nablus", Lang: "ar", Channel: bot.WhatsApp,
			Campaigns: []uint64{camp.ID}, Institution: inst.ID},
		{PollID: p.ID, ContactID: stays.ID, Option: 1, At: at.Add(time.Minute), Governorate: "gaza", Lang: "en", Channel: bot.Telegram},
		{PollID: q.ID, ContactID: gone.ID, Option: 0, At: at, Governorate: "nablus", Lang: "ar", Channel: bot.Telegram},
	} {
		_, err := b.AnswerPoll(ctx, a)
		require.NoError(t, err)
	}
	for _, id := range []uint64{gone.ID, stays.ID} {
		_, err := b.AddWatch(ctx, later.ID, id)
		require.NoError(t, err)
		_, err = b.AddSupporter(ctx, store.Support{InstitutionID: inst.ID, ContactID: id, Via: store.ViaPoll, Governorate: "nablus"}, false)
		require.NoError(t, err)
	}
	_, err = b.UpdateAffiliations(ctx, gone.ID, func(c *store.Contact) error {
		c.Affiliations = []store.Affiliation{{InstitutionID: inst.ID, Role: store.InstitutionRepresentative}}
		return nil
	})
	require.NoError(t, err)
	_, err = b.UpdateAffiliations(ctx, stays.ID, func(c *store.Contact) error {
		c.Affiliations = []store.Affiliation{{InstitutionID: inst.ID, Role: store.InstitutionCoordinator, By: gone.ID}}
		return nil
	})
	require.NoError(t, err)
	pl := pledge(camp.ID, gone.ID)
	pl.Institution = inst.ID
	_, err = b.AddPledge(ctx, pl)
	require.NoError(t, err)
	_, err = b.AddPledge(ctx, pledge(camp.ID, stays.ID))
	require.NoError(t, err)
	_, err = b.AddSignup(ctx, signup(camp.ID, gone.ID))
	require.NoError(t, err)
	require.NoError(t, b.PutSession(ctx, gone.ID, &store.Session{Flow: "poll"}))
	require.NoError(t, b.Enqueue(ctx, store.OutboxEntry{To: addr("whatsapp:9701"), ContactID: gone.ID, Text: "a notice"}))
	answered := store.Audience{Kind: store.AudiencePollAnswer, PollID: p.ID, Option: 1}
	n, err := b.CountAudience(ctx, answered, nil)
	require.NoError(t, err)
	require.Equal(t, 2, n.Total)

	require.NoError(t, b.ForgetContact(ctx, gone.ID))

	// the person, their addresses and both accounts' share codes
	_, err = b.Contact(ctx, gone.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	for _, a := range []string{"telegram:1", "whatsapp:9701", "telegram:3"} {
		_, err = b.ContactByAddress(ctx, addr(a))
		require.ErrorIs(t, err, store.ErrNotFound, a)
	}
	for _, code := range []string{gone.RefCode, second.RefCode} {
		_, err = b.ContactByRefCode(ctx, code)
		require.ErrorIs(t, err, store.ErrNotFound, "share code %s", code)
	}
	_, err = b.Session(ctx, gone.ID)
	require.ErrorIs(t, err, store.ErrNotFound)

	// their polls: no answer of theirs, no mark that they were asked
	mine, err := b.ContactPollAnswers(ctx, gone.ID)
	require.NoError(t, err)
	require.Empty(t, mine)
	for _, pid := range []uint64{p.ID, q.ID} {
		_, err = b.PollAnswerOf(ctx, pid, gone.ID)
		require.ErrorIs(t, err, store.ErrNotFound, "poll %d", pid)
		_, ok, err := b.Asked(ctx, pid, gone.ID)
		require.NoError(t, err)
		require.False(t, ok, "poll %d", pid)
	}
	for _, id := range []uint64{gone.ID, second.ID} {
		_, err = b.PollAnswerOf(ctx, early.ID, id)
		require.ErrorIs(t, err, store.ErrNotFound, "the merged account's answer, contact %d", id)
		_, ok, err := b.Asked(ctx, early.ID, id)
		require.NoError(t, err)
		require.False(t, ok, "the merged account's mark, contact %d", id)
	}
	r, err := b.PollResults(ctx, early.ID)
	require.NoError(t, err)
	require.Equal(t, store.PollCounts{Asked: 1, Options: []int{0, 0, 1}}, r.Counts)
	require.Equal(t, store.Tally{"": {0, 0, 1}}, r.ByGovernorate, "anonymous too")
	_, ok, err := b.Asked(ctx, p.ID, stays.ID)
	require.NoError(t, err)
	require.True(t, ok, "others stay asked")
	counts, err := b.PollCounts(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, store.PollCounts{Asked: 2, Options: []int{0, 2, 0}}, counts, "the totals stay")
	counts, err = b.PollCounts(ctx, q.ID)
	require.NoError(t, err)
	require.Equal(t, store.PollCounts{Asked: 1, Options: []int{1, 0, 0}}, counts)
	r, err = b.PollResults(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, store.PollCounts{Asked: 2, Options: []int{0, 2, 0}}, r.Counts)
	require.Equal(t, store.Tally{"gaza": {0, 1, 0}, "": {0, 1, 0}}, r.ByGovernorate, "their governorate is gone")
	require.Equal(t, store.Tally{"en": {0, 1, 0}, "": {0, 1, 0}}, r.ByLang)
	require.Equal(t, store.Tally{"telegram": {0, 1, 0}, "": {0, 1, 0}}, r.ByChannel)
	require.Equal(t, store.Tally{"": {0, 2, 0}}, r.ByCampaign, "and their campaigns")
	var answers []store.PollAnswer
	require.NoError(t, b.PollAnswers(ctx, p.ID, func(a *store.PollAnswer) error {
		answers = append(answers, *a)
		return nil
	}))
	require.Len(t, answers, 2)
	require.Equal(t, stays.ID, answers[0].ContactID)
	anon := answers[1]
	require.True(t, anon.At.Equal(at), "the time stays")
	anon.At = at
	require.Equal(t, store.PollAnswer{PollID: p.ID, Option: 1, At: at, Institution: inst.ID}, anon,
		"an anonymous answer, after the others: nothing of the person, the institution credited stays")
	n, err = b.CountAudience(ctx, answered, nil)
	require.NoError(t, err)
	require.Equal(t, store.AudienceCount{Total: 1, PerChannel: map[bot.ChannelName]int{bot.Telegram: 1}}, n, "out of the option's audience")
	listed(t, b, answered, stays.ID)
	_, err = b.AnswerPoll(ctx, store.PollAnswer{PollID: p.ID, ContactID: gone.ID, Option: 0})
	require.ErrorIs(t, err, store.ErrNotFound, "no one to answer as")

	// their watch, their places on the institution's lists, their role in it
	on, err := b.Watching(ctx, later.ID, gone.ID)
	require.NoError(t, err)
	require.False(t, on)
	_, err = b.Supporter(ctx, inst.ID, gone.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	sups, err := b.ContactSupports(ctx, gone.ID)
	require.NoError(t, err)
	require.Empty(t, sups)
	var listedIDs []uint64
	require.NoError(t, b.Supporters(ctx, inst.ID, func(sp *store.Support) error {
		listedIDs = append(listedIDs, sp.ContactID)
		return nil
	}))
	require.Equal(t, []uint64{stays.ID}, listedIDs)
	people, err := b.InstitutionPeople(ctx, inst.ID)
	require.NoError(t, err)
	require.Len(t, people, 1)
	require.Equal(t, stays.ID, people[0].ContactID)
	require.Equal(t, gone.ID, people[0].By, "others keep the number")
	ws, err := b.TakeWatchers(ctx, later.ID)
	require.NoError(t, err)
	require.Len(t, ws, 1)
	require.Equal(t, stays.ID, ws[0].ContactID)

	// their pledge stays counted without them; their sign-up goes
	_, err = b.Pledge(ctx, camp.ID, gone.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = b.Signup(ctx, camp.ID, gone.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	cc, err := b.Counts(ctx, camp.ID)
	require.NoError(t, err)
	require.Equal(t, store.Counts{Pledges: 2}, cc)
	share, err := b.CampaignShareStats(ctx, camp.ID, inst.ID)
	require.NoError(t, err)
	require.Equal(t, 1, share.Pledges, "the institution's share stays exact")
	require.Empty(t, allPending(t, b, bot.WhatsApp, false), "their queued message is gone")

	// answers after the erasure are counted as before, the anonymous one with them
	res, err := b.AnswerPoll(ctx, store.PollAnswer{PollID: p.ID, ContactID: stays.ID, Option: 2})
	require.NoError(t, err)
	require.Equal(t, 1, res.Previous)
	require.Equal(t, []int{0, 1, 1}, res.Counts.Options)
	newcomer := person(t, b, "telegram:1", nil)
	res, err = b.AnswerPoll(ctx, store.PollAnswer{PollID: p.ID, ContactID: newcomer.ID, Option: 1})
	require.NoError(t, err)
	require.Equal(t, -1, res.Previous, "a new person at their address has no answer")
	require.Equal(t, []int{0, 2, 1}, res.Counts.Options)
}

// testForgetPollAnswers forgets two people who gave the same answer, and
// one inside a unit of work that fails: each forgotten answer stays, once
// and anonymous, in the order they were forgotten; the failed erasure
// changes nothing.
func testForgetPollAnswers(t *testing.T, b ForgetBackend) {
	p := question(t, b, 0)
	at := time.Date(2026, 3, 4, 18, 0, 0, 0, time.UTC)
	var people []*store.Contact
	for i := range 4 {
		c := person(t, b, fmt.Sprintf("telegram:%d", i+1), consenting("gaza", "ar"))
		people = append(people, c)
		_, err := b.AnswerPoll(ctx, store.PollAnswer{PollID: p.ID, ContactID: c.ID, Option: 0, At: at.Add(time.Duration(i) * time.Minute),
			Governorate: "gaza", Lang: "ar", Channel: bot.Telegram, Institution: uint64(10 + i)})
		require.NoError(t, err)
	}
	require.NoError(t, b.MarkAsked(ctx, p.ID, []uint64{people[0].ID, people[1].ID, people[2].ID, people[3].ID}, time.Unix(1000, 0)))

	require.NoError(t, b.ForgetContact(ctx, people[2].ID))
	require.NoError(t, b.ForgetContact(ctx, people[0].ID))
	boom := errors.New("boom")
	require.ErrorIs(t, b.InTx(ctx, func(ctx context.Context) error {
		if err := b.ForgetContact(ctx, people[3].ID); err != nil {
			return err
		}
		return boom
	}), boom)

	got, err := b.PollAnswerOf(ctx, p.ID, people[3].ID)
	require.NoError(t, err, "the failed erasure keeps the answer")
	require.Equal(t, "gaza", got.Governorate)
	_, ok, err := b.Asked(ctx, p.ID, people[3].ID)
	require.NoError(t, err)
	require.True(t, ok, "and the mark")
	var seen []string
	require.NoError(t, b.PollAnswers(ctx, p.ID, func(a *store.PollAnswer) error {
		seen = append(seen, fmt.Sprintf("%d:%d:%s:%d:%d", a.Option, a.ContactID, a.Governorate, a.Institution, a.At.Sub(at)/time.Minute))
		return nil
	}))
	require.Equal(t, []string{
		fmt.Sprintf("0:%d:gaza:11:1", people[1].ID), fmt.Sprintf("0:%d:gaza:13:3", people[3].ID),
		"0:0::12:2", "0:0::10:0",
	}, seen, "the people's answers, then the anonymous ones in the order they were forgotten")
	counts, err := b.PollCounts(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, store.PollCounts{Asked: 4, Options: []int{4, 0, 0}}, counts)
	r, err := b.PollResults(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, store.Tally{"gaza": {2, 0, 0}, "": {2, 0, 0}}, r.ByGovernorate)
	n, err := b.CountAudience(ctx, store.Audience{Kind: store.AudiencePollAnswer, PollID: p.ID, Option: 0}, nil)
	require.NoError(t, err)
	require.Equal(t, 2, n.Total)
}

// testConcurrentForgetAndAnswer forgets people while they answer a poll
// again and again: an answer either comes before the erasure, and is made
// anonymous with the others, or finds no one to answer as. No answer of
// theirs is left, and the counts are exactly the answers standing.
func testConcurrentForgetAndAnswer(t *testing.T, b ForgetBackend) {
	p := question(t, b, 0)
	const people, tries = 16, 20
	var ids []uint64
	for i := range people {
		ids = append(ids, person(t, b, fmt.Sprintf("telegram:%d", 100+i), consenting("gaza", "ar")).ID)
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			for i := range tries {
				_, err := b.AnswerPoll(ctx, store.PollAnswer{PollID: p.ID, ContactID: id, Option: i % 3, Governorate: "gaza"})
				if errors.Is(err, store.ErrNotFound) {
					return // forgotten
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
		wg.Go(func() {
			if err := b.ForgetContact(ctx, id); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	answered := 0
	require.NoError(t, b.PollAnswers(ctx, p.ID, func(a *store.PollAnswer) error {
		answered++
		require.Zero(t, a.ContactID, "no one's answer is left")
		require.Empty(t, a.Governorate)
		return nil
	}))
	for _, id := range ids {
		mine, err := b.ContactPollAnswers(ctx, id)
		require.NoError(t, err)
		require.Empty(t, mine, "contact %d", id)
	}
	counts, err := b.PollCounts(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, answered, counts.Answered(), "the counts are the answers standing")
	t.Logf("%d of %d people had answered when they were forgotten", answered, people)
}
