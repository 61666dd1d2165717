package conform

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mobilise/bot"
	"mobilise/store"

	"github.com/stretchr/testify/require"
)

// Run runs the suite, each test on a new, empty backend from open. A
// Backend that is also a Reopener gets the crash tests; one that is also a
// Claimer gets the tests of claims and leases.
func Run(t *testing.T, open func(t *testing.T) Backend) {
	t.Run("Contacts", func(t *testing.T) { testContacts(t, open(t)) })
	t.Run("ContactUniqueness", func(t *testing.T) { testContactUniqueness(t, open(t)) })
	t.Run("ConcurrentEnsureContact", func(t *testing.T) { testConcurrentEnsure(t, open(t)) })
	t.Run("Campaigns", func(t *testing.T) { testCampaigns(t, open(t)) })
	t.Run("Pledges", func(t *testing.T) { testPledges(t, open(t)) })
	t.Run("TargetReachedOnce", func(t *testing.T) { testTarget(t, open(t)) })
	t.Run("ConcurrentPledges", func(t *testing.T) { testConcurrentPledges(t, open(t)) })
	t.Run("ConcurrentSamePerson", func(t *testing.T) { testConcurrentSamePerson(t, open(t)) })
	t.Run("Audiences", func(t *testing.T) { testAudiences(t, open(t)) })
	t.Run("CountersInTransaction", func(t *testing.T) { testCountersInTx(t, open(t)) })
	t.Run("UnitOfWork", func(t *testing.T) { testUnitOfWork(t, open(t), open(t)) })
	t.Run("Outbox", func(t *testing.T) { testOutbox(t, open(t)) })
	t.Run("QueueBroadcast", func(t *testing.T) { testQueueBroadcast(t, open(t)) })
	t.Run("OutboxOutcomes", func(t *testing.T) { testOutcomes(t, open(t)) })
	t.Run("OutboxSentPerMinute", func(t *testing.T) { testSentSince(t, open(t)) })
	t.Run("OutboxCrash", func(t *testing.T) {
		b := open(t)
		r, ok := b.(Reopener)
		if !ok {
			t.Fatalf("%T cannot be reopened: every store must show its crash semantics", b)
		}
		testCrash(t, b, r)
	})
	b := open(t)
	if c, ok := b.(Claimer); ok {
		t.Run("Claims", func(t *testing.T) { testClaims(t, b, c) })
		t.Run("ConcurrentClaims", func(t *testing.T) {
			b := open(t)
			testConcurrentClaims(t, b, b.(Claimer))
		})
	}
}

var ctx = context.Background()

func addr(s string) bot.Address { return bot.MustParseAddress(s) }

// person creates a contact at address a and sets what onboarding sets.
func person(t *testing.T, b Backend, a string, fn func(c *store.Contact)) *store.Contact {
	t.Helper()
	c, created, err := b.EnsureContact(ctx, addr(a), "سمر", "")
	require.NoError(t, err)
	require.True(t, created, "contact at %s", a)
	if fn == nil {
		return c
	}
	c, err = b.UpdateContact(ctx, c.ID, func(c *store.Contact) error {
		fn(c)
		return nil
	})
	require.NoError(t, err)
	return c
}

func consenting(gov, lang string) func(c *store.Contact) {
	return func(c *store.Contact) {
		c.Consent, c.ConsentAt, c.Governorate, c.Lang = true, time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), gov, lang
	}
}

func campaign(t *testing.T, b Backend, code string, target int) *store.Campaign {
	t.Helper()
	c := &store.Campaign{Code: code, TitleAR: "عهد السلام", Kind: store.KindPledge, Target: target,
		StartAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	require.NoError(t, b.CreateCampaign(ctx, c))
	return c
}

func pledge(campaignID, contactID uint64) store.Pledge {
	return store.Pledge{CampaignID: campaignID, ContactID: contactID, At: time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC),
		Channel: bot.Telegram, Governorate: "gaza", Lang: "ar"}
}

func testContacts(t *testing.T, b Backend) {
	c, created, err := b.EnsureContact(ctx, addr("telegram:1001"), "Samar", "ar")
	require.NoError(t, err)
	require.True(t, created)
	require.NotZero(t, c.ID)
	require.Equal(t, []bot.Address{addr("telegram:1001")}, c.Addresses)
	require.Equal(t, "Samar", c.Name)
	require.Equal(t, "ar", c.Lang)
	require.Len(t, c.RefCode, 7)
	require.False(t, c.CreatedAt.IsZero())

	again, created, err := b.EnsureContact(ctx, addr("telegram:1001"), "Samar K", "en")
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, c.ID, again.ID)
	require.Equal(t, "Samar K", again.Name, "a new name is taken")
	require.Equal(t, "ar", again.Lang, "a language already chosen is kept")

	other, created, err := b.EnsureContact(ctx, addr("whatsapp:970590000001"), "", "")
	require.NoError(t, err)
	require.True(t, created)
	require.Greater(t, other.ID, c.ID)
	require.NotEqual(t, c.RefCode, other.RefCode)

	byCode, err := b.ContactByRefCode(ctx, strings.ToUpper(c.RefCode))
	require.NoError(t, err)
	require.Equal(t, c.ID, byCode.ID)
	byAddr, err := b.ContactByAddress(ctx, addr("whatsapp:970590000001"))
	require.NoError(t, err)
	require.Equal(t, other.ID, byAddr.ID)
	_, err = b.ContactByAddress(ctx, addr("telegram:999"))
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = b.Contact(ctx, other.ID+100)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, _, err = b.EnsureContact(ctx, bot.Address{Channel: bot.Telegram}, "", "")
	require.Error(t, err, "an address needs an ID")

	// consent, /stop, governorate and language, read back
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	_, err = b.UpdateContact(ctx, c.ID, func(c *store.Contact) error {
		c.Consent, c.ConsentAt, c.Governorate, c.Lang, c.Stopped = true, at, "hebron", "en", true
		return nil
	})
	require.NoError(t, err)
	got, err := b.Contact(ctx, c.ID)
	require.NoError(t, err)
	require.True(t, got.Consent)
	require.True(t, got.ConsentAt.Equal(at))
	require.True(t, got.Stopped)
	require.Equal(t, "hebron", got.Governorate)
	require.Equal(t, "en", got.Lang)
	require.Equal(t, c.RefCode, got.RefCode)

	// fn's error writes nothing
	boom := errors.New("boom")
	_, err = b.UpdateContact(ctx, c.ID, func(c *store.Contact) error {
		c.Governorate = "gaza"
		return boom
	})
	require.ErrorIs(t, err, boom)
	got, err = b.Contact(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, "hebron", got.Governorate)

	_, err = b.UpdateContact(ctx, other.ID+100, func(*store.Contact) error { return nil })
	require.ErrorIs(t, err, store.ErrNotFound)
}

func testContactUniqueness(t *testing.T, b Backend) {
	first := person(t, b, "telegram:1", nil)
	second := person(t, b, "telegram:2", nil)

	// an address of another contact
	_, err := b.UpdateContact(ctx, second.ID, func(c *store.Contact) error {
		c.Addresses = append(c.Addresses, addr("telegram:1"))
		return nil
	})
	require.ErrorIs(t, err, store.ErrAddressTaken)
	owner, err := b.ContactByAddress(ctx, addr("telegram:1"))
	require.NoError(t, err)
	require.Equal(t, first.ID, owner.ID)
	got, err := b.Contact(ctx, second.ID)
	require.NoError(t, err)
	require.Equal(t, []bot.Address{addr("telegram:2")}, got.Addresses)

	// a second address of one's own, de-duplicated, then moved away
	moved, err := b.UpdateContact(ctx, second.ID, func(c *store.Contact) error {
		c.Addresses = append(c.Addresses, addr("whatsapp:9702"), addr("whatsapp:9702"))
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []bot.Address{addr("telegram:2"), addr("whatsapp:9702")}, moved.Addresses)
	_, err = b.UpdateContact(ctx, second.ID, func(c *store.Contact) error {
		c.Addresses = []bot.Address{addr("whatsapp:9702")}
		return nil
	})
	require.NoError(t, err)
	_, err = b.ContactByAddress(ctx, addr("telegram:2"))
	require.ErrorIs(t, err, store.ErrNotFound, "an address given up is free")
	third := person(t, b, "telegram:2", nil)
	require.NotEqual(t, second.ID, third.ID)

	// a share code of another contact; one's own in another case is fine
	_, err = b.UpdateContact(ctx, second.ID, func(c *store.Contact) error {
		c.RefCode = strings.ToUpper(first.RefCode)
		return nil
	})
	require.ErrorIs(t, err, store.ErrCodeTaken)
	renamed, err := b.UpdateContact(ctx, second.ID, func(c *store.Contact) error {
		c.RefCode = "NEWCODE9"
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, "newcode9", renamed.RefCode)
	byCode, err := b.ContactByRefCode(ctx, "newCode9")
	require.NoError(t, err)
	require.Equal(t, second.ID, byCode.ID)
	_, err = b.ContactByRefCode(ctx, second.RefCode)
	require.ErrorIs(t, err, store.ErrNotFound, "the old code is free")
	_, err = b.UpdateContact(ctx, second.ID, func(c *store.Contact) error {
		c.ID = first.ID // fn cannot change the ID
		return nil
	})
	require.NoError(t, err)
	got, err = b.Contact(ctx, first.ID)
	require.NoError(t, err)
	require.Equal(t, first.RefCode, got.RefCode)
	require.Equal(t, []bot.Address{addr("telegram:1")}, got.Addresses)
}

func testConcurrentEnsure(t *testing.T, b Backend) {
	const n = 32
	var (
		wg      sync.WaitGroup
		created atomic.Int32
		ids     sync.Map
	)
	for range n {
		wg.Go(func() {
			c, made, err := b.EnsureContact(ctx, addr("telegram:777"), "Nour", "ar")
			if err != nil {
				t.Error(err)
				return
			}
			if made {
				created.Add(1)
			}
			ids.Store(c.ID, true)
		})
	}
	wg.Wait()
	require.Equal(t, int32(1), created.Load(), "one caller creates the contact")
	count := 0
	ids.Range(func(any, any) bool { count++; return true })
	require.Equal(t, 1, count, "every caller gets the same contact")
}

func testCampaigns(t *testing.T, b Backend) {
	c := campaign(t, b, "Peace2026", 0)
	require.NotZero(t, c.ID)
	require.Equal(t, "peace2026", c.Code)
	require.False(t, c.CreatedAt.IsZero())
	err := b.CreateCampaign(ctx, &store.Campaign{Code: " PEACE2026 ", Kind: store.KindPledge})
	require.ErrorIs(t, err, store.ErrCodeTaken)
	require.Error(t, b.CreateCampaign(ctx, &store.Campaign{Code: "  ", Kind: store.KindPledge}), "a campaign needs a code")
	got, err := b.CampaignByCode(ctx, "PEACE2026")
	require.NoError(t, err)
	require.Equal(t, c.ID, got.ID)
	require.Equal(t, "عهد السلام", got.TitleAR)
	byID, err := b.Campaign(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, "peace2026", byID.Code)
	_, err = b.Campaign(ctx, c.ID+10)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = b.CampaignByCode(ctx, "nope")
	require.ErrorIs(t, err, store.ErrNotFound)
	other := campaign(t, b, "other", 0)
	require.Greater(t, other.ID, c.ID)
	counts, err := b.Counts(ctx, other.ID)
	require.NoError(t, err)
	require.Equal(t, store.Counts{}, counts)
}

func testPledges(t *testing.T, b Backend) {
	c := campaign(t, b, "p1", 0)
	p := person(t, b, "telegram:1", consenting("gaza", "ar"))
	res, err := b.AddPledge(ctx, pledge(c.ID, p.ID))
	require.NoError(t, err)
	require.Equal(t, 1, res.Counts.Pledges)
	require.Equal(t, c.ID, res.Campaign.ID)
	require.False(t, res.ReachedTarget)

	res, err = b.AddPledge(ctx, pledge(c.ID, p.ID))
	require.ErrorIs(t, err, store.ErrAlreadyPledged)
	require.Equal(t, 1, res.Counts.Pledges, "the current counts come with ErrAlreadyPledged")
	require.Equal(t, c.ID, res.Campaign.ID)

	_, err = b.AddPledge(ctx, pledge(c.ID+50, p.ID))
	require.ErrorIs(t, err, store.ErrCampaignNotFound)
	_, err = b.AddPledge(ctx, pledge(c.ID, p.ID+50))
	require.ErrorIs(t, err, store.ErrNotFound)
	require.NotErrorIs(t, err, store.ErrCampaignNotFound)
	_, err = b.AddPledge(ctx, pledge(0, p.ID))
	require.Error(t, err)

	got, err := b.Pledge(ctx, c.ID, p.ID)
	require.NoError(t, err)
	want := pledge(c.ID, p.ID)
	require.Equal(t, want.CampaignID, got.CampaignID)
	require.Equal(t, want.ContactID, got.ContactID)
	require.True(t, want.At.Equal(got.At), "at %s, want %s", got.At, want.At)
	require.Equal(t, want.Channel, got.Channel)
	require.Equal(t, want.Governorate, got.Governorate)
	require.Equal(t, want.Lang, got.Lang)
	_, err = b.Pledge(ctx, c.ID, p.ID+1)
	require.ErrorIs(t, err, store.ErrNotFound)

	// the same person pledges to another campaign; a zero At becomes now
	c2 := campaign(t, b, "p2", 0)
	_, err = b.AddPledge(ctx, store.Pledge{CampaignID: c2.ID, ContactID: p.ID})
	require.NoError(t, err)
	got, err = b.Pledge(ctx, c2.ID, p.ID)
	require.NoError(t, err)
	require.False(t, got.At.IsZero())
	for _, id := range []uint64{c.ID, c2.ID} {
		counts, err := b.Counts(ctx, id)
		require.NoError(t, err)
		require.Equal(t, 1, counts.Pledges)
	}
}

func testTarget(t *testing.T, b Backend) {
	c := campaign(t, b, "target", 3)
	reached := 0
	for i := range 5 {
		p := person(t, b, fmt.Sprintf("telegram:%d", 100+i), nil)
		res, err := b.AddPledge(ctx, pledge(c.ID, p.ID))
		require.NoError(t, err)
		require.Equal(t, i+1, res.Counts.Pledges)
		if res.ReachedTarget {
			reached++
			require.Equal(t, 3, res.Counts.Pledges, "the pledge that brings the count to the target")
			require.False(t, res.Campaign.TargetReachedAt.IsZero())
		}
	}
	require.Equal(t, 1, reached)
	got, err := b.Campaign(ctx, c.ID)
	require.NoError(t, err)
	require.False(t, got.TargetReachedAt.IsZero(), "TargetReachedAt is stored")
}

func testConcurrentPledges(t *testing.T, b Backend) {
	const n = 1000
	c := campaign(t, b, "crowd", n)
	ids := make([]uint64, n)
	require.NoError(t, b.InTx(ctx, func(ctx context.Context) error {
		for i := range ids {
			p, _, err := b.EnsureContact(ctx, addr(fmt.Sprintf("telegram:%d", 10_000+i)), "", "ar")
			if err != nil {
				return err
			}
			ids[i] = p.ID
		}
		return nil
	}))
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		reached atomic.Int32
		seen    = make([]int, n)
	)
	for i, id := range ids {
		wg.Go(func() {
			<-start
			res, err := b.AddPledge(ctx, pledge(c.ID, id))
			if err != nil {
				t.Error(err)
				return
			}
			seen[i] = res.Counts.Pledges
			if res.ReachedTarget {
				reached.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	counts, err := b.Counts(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, n, counts.Pledges, "every pledge is counted once")
	require.Equal(t, int32(1), reached.Load(), "one pledge reaches the target")
	slices.Sort(seen)
	for i, s := range seen {
		require.Equal(t, i+1, s, "each pledge sees the count it made")
	}
	aud, err := b.CountAudience(ctx, store.Audience{Kind: store.AudiencePledgers, CampaignID: c.ID}, nil)
	require.NoError(t, err)
	require.Equal(t, 0, aud.Total, "people who did not consent are in no audience")
}

func testConcurrentSamePerson(t *testing.T, b Backend) {
	const people = 50
	c := campaign(t, b, "twice", 0)
	var ids []uint64
	for i := range people {
		ids = append(ids, person(t, b, fmt.Sprintf("telegram:%d", 500+i), nil).ID)
	}
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		ok, dup atomic.Int32
	)
	for _, id := range ids {
		for range 2 {
			wg.Go(func() {
				<-start
				_, err := b.AddPledge(ctx, pledge(c.ID, id))
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, store.ErrAlreadyPledged):
					dup.Add(1)
				default:
					t.Error(err)
				}
			})
		}
	}
	close(start)
	wg.Wait()
	require.Equal(t, int32(people), ok.Load(), "one pledge per person")
	require.Equal(t, int32(people), dup.Load(), "the other is refused")
	counts, err := b.Counts(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, people, counts.Pledges)
}

// audiencePerson is one person of testAudiences.
type audiencePerson struct {
	addrs       []string
	preferred   bot.ChannelName
	consent     bool
	stopped     bool
	gov, lang   string
	member      bool
	unreachable string
}

func testAudiences(t *testing.T, b Backend) {
	people := []audiencePerson{
		{addrs: []string{"telegram:1"}, consent: true, gov: "gaza", lang: "ar"},
		{addrs: []string{"telegram:2", "whatsapp:9702"}, preferred: bot.WhatsApp, consent: true, gov: "gaza", lang: "en"},
		{addrs: []string{"whatsapp:9703", "telegram:3"}, consent: true, gov: "hebron", lang: ""},
		{addrs: []string{"telegram:4"}, consent: false, gov: "gaza", lang: "ar"},
		{addrs: []string{"telegram:5"}, consent: true, stopped: true, gov: "gaza", lang: "ar"},
		{addrs: []string{"telegram:6", "whatsapp:9706"}, preferred: bot.Telegram, consent: true, gov: "nablus", lang: "en-GB", member: true},
		{addrs: []string{"telegram:7", "whatsapp:9707"}, preferred: bot.Telegram, consent: true, gov: "gaza", lang: "ar", unreachable: "telegram:7"},
		{addrs: []string{"telegram:8"}, consent: true, gov: "gaza", lang: "ar", unreachable: "telegram:8"},
		{addrs: []string{"console:9"}, consent: true, gov: "", lang: "ar", member: true},
	}
	var contacts []*store.Contact
	for _, p := range people {
		c := person(t, b, p.addrs[0], func(c *store.Contact) {
			for _, a := range p.addrs[1:] {
				c.Addresses = append(c.Addresses, addr(a))
			}
			c.PreferredChannel, c.Consent, c.Stopped, c.Governorate, c.Lang = p.preferred, p.consent, p.stopped, p.gov, p.lang
			if p.member {
				c.InstitutionID = 7
			}
			if p.unreachable != "" {
				c.Unreachable = map[bot.Address]time.Time{addr(p.unreachable): time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
			}
		})
		contacts = append(contacts, c)
	}
	camp := campaign(t, b, "aud", 0)
	for _, i := range []int{0, 1, 3, 6} {
		_, err := b.AddPledge(ctx, pledge(camp.ID, contacts[i].ID))
		require.NoError(t, err)
	}
	noConsole := func(ch bot.ChannelName) bool { return ch != bot.Console }
	onlyTelegram := func(ch bot.ChannelName) bool { return ch == bot.Telegram }
	check := func(aud store.Audience, channelOK func(bot.ChannelName) bool, want map[bot.ChannelName]int) {
		t.Helper()
		got, err := b.CountAudience(ctx, aud, channelOK)
		require.NoError(t, err, "%+v", aud)
		total := 0
		for _, n := range want {
			total += n
		}
		require.Equal(t, want, got.PerChannel, "%+v", aud)
		require.Equal(t, total, got.Total, "%+v", aud)
	}
	tg, wa, co := bot.Telegram, bot.WhatsApp, bot.Console
	everyone := store.Audience{Kind: store.AudienceEveryone}
	check(everyone, nil, map[bot.ChannelName]int{tg: 2, wa: 3, co: 1})
	check(everyone, noConsole, map[bot.ChannelName]int{tg: 2, wa: 3})
	check(everyone, onlyTelegram, map[bot.ChannelName]int{tg: 4})
	check(store.Audience{Kind: store.AudienceGovernorate, Governorate: "gaza"}, nil, map[bot.ChannelName]int{tg: 1, wa: 2})
	check(store.Audience{Kind: store.AudienceGovernorate, Governorate: "jenin"}, nil, map[bot.ChannelName]int{})
	check(store.Audience{Kind: store.AudienceLang, Lang: "en"}, nil, map[bot.ChannelName]int{tg: 1, wa: 1})
	check(store.Audience{Kind: store.AudienceLang, Lang: "ar"}, nil, map[bot.ChannelName]int{tg: 1, wa: 2, co: 1})
	check(store.Audience{Kind: store.AudienceMembers}, nil, map[bot.ChannelName]int{tg: 1, co: 1})
	check(store.Audience{Kind: store.AudiencePledgers, CampaignID: camp.ID}, nil, map[bot.ChannelName]int{tg: 1, wa: 2})
	check(store.Audience{Kind: store.AudienceNotPledged, CampaignID: camp.ID}, nil, map[bot.ChannelName]int{tg: 1, wa: 1, co: 1})
	_, err := b.CountAudience(ctx, store.Audience{Kind: store.AudiencePledgers, CampaignID: camp.ID + 9}, nil)
	require.ErrorIs(t, err, store.ErrCampaignNotFound)
	_, err = b.CountAudience(ctx, store.Audience{Kind: store.AudienceLang, Lang: "fr"}, nil)
	require.Error(t, err)

	// consent, /stop, governorate and language move people between audiences
	update := func(i int, fn func(c *store.Contact)) {
		t.Helper()
		_, err := b.UpdateContact(ctx, contacts[i].ID, func(c *store.Contact) error {
			fn(c)
			return nil
		})
		require.NoError(t, err)
	}
	update(3, func(c *store.Contact) { c.Consent = true })                                     // +1 telegram, gaza, ar, pledged
	update(0, func(c *store.Contact) { c.Stopped = true })                                     // -1 telegram, gaza, ar, pledged
	update(1, func(c *store.Contact) { c.Governorate = "hebron" })                             // gaza → hebron
	update(2, func(c *store.Contact) { c.Lang = "en" })                                        // ar → en
	update(7, func(c *store.Contact) { c.Unreachable = nil })                                  // reachable again on telegram
	update(6, func(c *store.Contact) { c.PreferredChannel = bot.WhatsApp; c.Stopped = false }) // still whatsapp: telegram unreachable
	check(everyone, nil, map[bot.ChannelName]int{tg: 3, wa: 3, co: 1})
	check(store.Audience{Kind: store.AudienceGovernorate, Governorate: "gaza"}, nil, map[bot.ChannelName]int{tg: 2, wa: 1})
	check(store.Audience{Kind: store.AudienceGovernorate, Governorate: "hebron"}, nil, map[bot.ChannelName]int{wa: 2})
	check(store.Audience{Kind: store.AudienceLang, Lang: "en"}, nil, map[bot.ChannelName]int{tg: 1, wa: 2})
	check(store.Audience{Kind: store.AudiencePledgers, CampaignID: camp.ID}, nil, map[bot.ChannelName]int{tg: 1, wa: 2})
	check(store.Audience{Kind: store.AudiencePledgers, CampaignID: camp.ID}, onlyTelegram, map[bot.ChannelName]int{tg: 2})
}

func testCountersInTx(t *testing.T, b Backend) {
	c := campaign(t, b, "tx", 0)
	boom := errors.New("changed my mind")
	pledgers := store.Audience{Kind: store.AudiencePledgers, CampaignID: c.ID}
	err := b.InTx(ctx, func(ctx context.Context) error {
		p, _, err := b.EnsureContact(ctx, addr("telegram:42"), "", "ar")
		if err != nil {
			return err
		}
		if _, err := b.UpdateContact(ctx, p.ID, func(c *store.Contact) error {
			consenting("gaza", "ar")(c)
			return nil
		}); err != nil {
			return err
		}
		res, err := b.AddPledge(ctx, pledge(c.ID, p.ID))
		if err != nil {
			return err
		}
		require.Equal(t, 1, res.Counts.Pledges)
		counts, err := b.Counts(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, 1, counts.Pledges, "the counter moved in this transaction")
		aud, err := b.CountAudience(ctx, pledgers, nil)
		require.NoError(t, err)
		require.Equal(t, 1, aud.Total, "the audience counts the pledge of this transaction")
		gov, err := b.CountAudience(ctx, store.Audience{Kind: store.AudienceGovernorate, Governorate: "gaza"}, nil)
		require.NoError(t, err)
		require.Equal(t, 1, gov.Total)
		return boom
	})
	require.ErrorIs(t, err, boom)
	counts, err := b.Counts(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, 0, counts.Pledges, "rolled back with the pledge")
	aud, err := b.CountAudience(ctx, store.Audience{Kind: store.AudienceEveryone}, nil)
	require.NoError(t, err)
	require.Equal(t, 0, aud.Total)
	_, err = b.ContactByAddress(ctx, addr("telegram:42"))
	require.ErrorIs(t, err, store.ErrNotFound, "the contact was rolled back too")

	// committed, the same counts are read outside
	require.NoError(t, b.InTx(ctx, func(ctx context.Context) error {
		p, _, err := b.EnsureContact(ctx, addr("telegram:43"), "", "ar")
		if err != nil {
			return err
		}
		if _, err := b.UpdateContact(ctx, p.ID, func(c *store.Contact) error {
			consenting("gaza", "ar")(c)
			return nil
		}); err != nil {
			return err
		}
		_, err = b.AddPledge(ctx, pledge(c.ID, p.ID))
		return err
	}))
	counts, err = b.Counts(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, 1, counts.Pledges)
	aud, err = b.CountAudience(ctx, pledgers, nil)
	require.NoError(t, err)
	require.Equal(t, map[bot.ChannelName]int{bot.Telegram: 1}, aud.PerChannel)
}

func testUnitOfWork(t *testing.T, b, other Backend) {
	var hooks []string
	boom := errors.New("boom")

	// a hook runs after the commit, in order, and not before
	require.NoError(t, b.InTx(ctx, func(ctx context.Context) error {
		if _, _, err := b.EnsureContact(ctx, addr("telegram:1"), "", ""); err != nil {
			return err
		}
		b.AfterCommit(ctx, func() { hooks = append(hooks, "first") })
		// a nested unit joins the outer one; its hooks wait for the outer commit
		if err := b.InTx(ctx, func(ctx context.Context) error {
			b.AfterCommit(ctx, func() { hooks = append(hooks, "nested") })
			_, _, err := b.EnsureContact(ctx, addr("telegram:2"), "", "")
			return err
		}); err != nil {
			return err
		}
		require.Empty(t, hooks, "no hook before the commit")
		return nil
	}))
	require.Equal(t, []string{"first", "nested"}, hooks)
	for _, a := range []string{"telegram:1", "telegram:2"} {
		_, err := b.ContactByAddress(ctx, addr(a))
		require.NoError(t, err)
	}

	// a rollback keeps nothing and runs no hook
	hooks = nil
	err := b.InTx(ctx, func(ctx context.Context) error {
		c := &store.Campaign{Code: "gone", Kind: store.KindPledge}
		if err := b.CreateCampaign(ctx, c); err != nil {
			return err
		}
		if _, _, err := b.EnsureContact(ctx, addr("telegram:3"), "", ""); err != nil {
			return err
		}
		if err := b.Enqueue(ctx, store.OutboxEntry{To: addr("telegram:3"), Text: "hello"}); err != nil {
			return err
		}
		b.AfterCommit(ctx, func() { hooks = append(hooks, "rolled back") })
		return b.InTx(ctx, func(ctx context.Context) error { return boom })
	})
	require.ErrorIs(t, err, boom)
	require.Empty(t, hooks)
	_, err = b.CampaignByCode(ctx, "gone")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = b.ContactByAddress(ctx, addr("telegram:3"))
	require.ErrorIs(t, err, store.ErrNotFound)
	pending, err := b.PendingOutbox(ctx, bot.Telegram, false, 0, 10)
	require.NoError(t, err)
	require.Empty(t, pending)
	require.NoError(t, b.CreateCampaign(ctx, &store.Campaign{Code: "gone", Kind: store.KindPledge}), "the code was never taken")

	// outside a transaction a hook runs at once
	hooks = nil
	b.AfterCommit(ctx, func() { hooks = append(hooks, "now") })
	require.Equal(t, []string{"now"}, hooks)

	// another store's transaction cannot be joined
	err = b.InTx(ctx, func(ctx context.Context) error {
		return other.InTx(ctx, func(context.Context) error { return nil })
	})
	require.ErrorIs(t, err, store.ErrNested)
}

// outboxEntries are n broadcast copies to n people, shuffled: contacts 1..n
// at telegram:100000001… and, every third, whatsapp.
func outboxEntries(n int, text string) []store.OutboxEntry {
	entries := make([]store.OutboxEntry, n)
	for i := range entries {
		id := uint64(i + 1)
		to := fmt.Sprintf("telegram:%d", 100000000+id)
		if id%3 == 0 {
			to = fmt.Sprintf("whatsapp:97059%07d", id)
		}
		entries[i] = store.OutboxEntry{To: addr(to), ContactID: id, Text: text, Lang: "ar"}
	}
	rand.Shuffle(len(entries), func(i, j int) { entries[i], entries[j] = entries[j], entries[i] })
	return entries
}

// allPending reads a whole lane.
func allPending(t *testing.T, b Backend, channel bot.ChannelName, bulk bool) []store.OutboxEntry {
	t.Helper()
	var out []store.OutboxEntry
	var after uint64
	for {
		page, err := b.PendingOutbox(ctx, channel, bulk, after, 5000)
		require.NoError(t, err)
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		after = page[len(page)-1].ID
	}
}

func ids(entries []store.OutboxEntry) []uint64 {
	out := make([]uint64, len(entries))
	for i, e := range entries {
		out[i] = e.ID
	}
	return out
}

func testOutbox(t *testing.T, b Backend) {
	notices := []store.OutboxEntry{
		{To: addr("telegram:1"), Text: "one", Kind: "target_reached", Buttons: [][]bot.Button{{{Text: "OK", Payload: "ok"}}}},
		{To: addr("telegram:2"), Text: "two", Kind: store.KindReply},
		{To: addr("whatsapp:9703"), Text: "three", Kind: store.KindReply},
	}
	require.NoError(t, b.Enqueue(ctx, notices...))
	for i, e := range notices {
		require.NotZero(t, e.ID, "Enqueue sets the IDs")
		if i > 0 {
			require.Greater(t, e.ID, notices[i-1].ID)
		}
	}
	require.Equal(t, bot.Telegram, notices[0].Channel, "Channel comes from To")
	bulk := []store.OutboxEntry{{To: addr("telegram:4"), Text: "bulk", Bulk: true}}
	require.NoError(t, b.Enqueue(ctx, bulk...))
	require.Greater(t, bulk[0].ID, notices[2].ID, "one sequence for all channels and lanes")

	tgNotices := allPending(t, b, bot.Telegram, false)
	require.Equal(t, []uint64{notices[0].ID, notices[1].ID}, ids(tgNotices))
	require.Equal(t, "one", tgNotices[0].Text)
	require.Equal(t, store.MessageKind("target_reached"), tgNotices[0].Kind)
	require.Equal(t, notices[0].Buttons, tgNotices[0].Buttons)
	require.Equal(t, addr("telegram:1"), tgNotices[0].To)
	require.Equal(t, []uint64{bulk[0].ID}, ids(allPending(t, b, bot.Telegram, true)))
	require.Equal(t, []uint64{notices[2].ID}, ids(allPending(t, b, bot.WhatsApp, false)))
	page, err := b.PendingOutbox(ctx, bot.Telegram, false, notices[0].ID, 10)
	require.NoError(t, err)
	require.Equal(t, []uint64{notices[1].ID}, ids(page), "after pages on")
	page, err = b.PendingOutbox(ctx, bot.Telegram, false, 0, 1)
	require.NoError(t, err)
	require.Len(t, page, 1, "limit")
	depth, err := b.OutboxDepth(ctx)
	require.NoError(t, err)
	require.Equal(t, map[bot.ChannelName]int{bot.Telegram: 3, bot.WhatsApp: 1}, depth)

	require.Error(t, b.Enqueue(ctx, store.OutboxEntry{To: bot.Address{Channel: bot.Telegram}}), "an address needs an ID")
	require.Error(t, b.Enqueue(ctx, store.OutboxEntry{To: addr("telegram:5"), Channel: bot.WhatsApp}), "channel and address disagree")

	// started, not started, retried
	require.NoError(t, b.OutboxStarted(ctx, notices[0].ID))
	require.False(t, allPending(t, b, bot.Telegram, false)[0].Started.IsZero())
	require.NoError(t, b.OutboxNotStarted(ctx, notices[0].ID))
	require.True(t, allPending(t, b, bot.Telegram, false)[0].Started.IsZero())
	require.NoError(t, b.OutboxStarted(ctx, notices[0].ID))
	later := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	require.NoError(t, b.OutboxRetry(ctx, notices[0].ID, later, "timeout"))
	require.NoError(t, b.OutboxRetry(ctx, notices[0].ID, later, "timeout again"))
	e := allPending(t, b, bot.Telegram, false)[0]
	require.Equal(t, 2, e.Attempts)
	require.Equal(t, "timeout again", e.LastError)
	require.True(t, e.NotBefore.Equal(later))
	require.True(t, e.Started.IsZero(), "a retry clears Started")
	require.NoError(t, b.OutboxRetry(ctx, 999_999, later, "unknown"), "an unknown ID is skipped")

	// done is done, once
	require.NoError(t, b.OutboxDone(ctx, notices[0].ID, notices[1].ID))
	require.NoError(t, b.OutboxDone(ctx, notices[0].ID, notices[1].ID))
	queued, err := b.OutboxQueued(ctx, notices[0].ID)
	require.NoError(t, err)
	require.False(t, queued)
	queued, err = b.OutboxQueued(ctx, notices[2].ID)
	require.NoError(t, err)
	require.True(t, queued)
	require.Empty(t, allPending(t, b, bot.Telegram, false))
	require.NoError(t, b.OutboxFailed(ctx, notices[2].ID, "bad number", false))
	require.Empty(t, allPending(t, b, bot.WhatsApp, false))
}

func testQueueBroadcast(t *testing.T, b Backend) {
	const n = 12_345 // more than one transaction's worth
	text := strings.Repeat("نداء للمصالحة ", 10)
	bc := &store.Broadcast{TextAR: text, TextEN: "A call", Audience: store.Audience{Kind: store.AudienceEveryone}, Urgent: true}
	require.NoError(t, b.CreateBroadcast(ctx, bc))
	require.NotZero(t, bc.ID)
	require.Equal(t, store.BroadcastAwaitingApproval, bc.Status)
	entries := outboxEntries(n, text)
	entries[0].Text = "A call"            // the English text, by reference too
	entries[1].Text = "Personal, " + text // its own text
	personal := entries[1].ContactID
	english := entries[0].ContactID
	require.NoError(t, b.QueueBroadcast(ctx, bc.ID, entries))
	for i, e := range entries {
		require.NotZero(t, e.ID)
		if i > 0 {
			require.Greater(t, e.ContactID, entries[i-1].ContactID, "sorted by contact")
			require.Greater(t, e.ID, entries[i-1].ID, "IDs follow the contacts")
		}
	}
	got, err := b.Broadcast(ctx, bc.ID)
	require.NoError(t, err)
	require.Equal(t, n, got.Total)
	require.True(t, got.AllQueued)
	require.Equal(t, store.BroadcastQueued, got.Status)
	require.Equal(t, uint64(n), got.QueuedThrough)
	require.False(t, got.QueuedAt.IsZero())

	tg, wa := allPending(t, b, bot.Telegram, true), allPending(t, b, bot.WhatsApp, true)
	require.Len(t, wa, n/3)
	require.Len(t, tg, n-n/3)
	require.Empty(t, allPending(t, b, bot.Telegram, false), "a broadcast is bulk")
	for _, e := range append(tg, wa...) {
		require.Equal(t, bc.ID, e.BroadcastID)
		require.True(t, e.Bulk)
		require.True(t, e.Urgent)
		require.Equal(t, store.KindBroadcast, e.Kind)
		switch e.ContactID {
		case personal:
			require.Equal(t, "Personal, "+text, e.Text)
		case english:
			require.Equal(t, "A call", e.Text)
		default:
			require.Equal(t, text, e.Text)
		}
	}

	// called again, nothing is queued twice
	require.NoError(t, b.QueueBroadcast(ctx, bc.ID, outboxEntries(n, text)))
	got, err = b.Broadcast(ctx, bc.ID)
	require.NoError(t, err)
	require.Equal(t, n, got.Total)
	require.Len(t, allPending(t, b, bot.Telegram, true), n-n/3)

	// a cancelled broadcast takes nothing more
	cancelled := &store.Broadcast{TextAR: "x", Status: store.BroadcastCancelled}
	require.NoError(t, b.CreateBroadcast(ctx, cancelled))
	err = b.QueueBroadcast(ctx, cancelled.ID, outboxEntries(3, "x"))
	require.ErrorIs(t, err, store.ErrBroadcastClosed)
	err = b.QueueBroadcast(ctx, bc.ID+99, outboxEntries(3, "x"))
	require.ErrorIs(t, err, store.ErrNotFound)
	require.Error(t, b.QueueBroadcast(ctx, bc.ID, []store.OutboxEntry{{To: addr("telegram:1")}}), "an entry needs a contact")
}

func testOutcomes(t *testing.T, b Backend) {
	bc := &store.Broadcast{TextAR: "نداء"}
	require.NoError(t, b.CreateBroadcast(ctx, bc))
	entries := outboxEntries(4, "نداء")
	require.NoError(t, b.QueueBroadcast(ctx, bc.ID, entries))
	// a test send names the broadcast but does not count for it
	test := []store.OutboxEntry{{To: addr("telegram:9"), Text: "test", BroadcastID: bc.ID}}
	require.NoError(t, b.Enqueue(ctx, test...))

	require.NoError(t, b.OutboxDone(ctx, entries[0].ID))
	got, err := b.Broadcast(ctx, bc.ID)
	require.NoError(t, err)
	require.Equal(t, 1, got.Sent)
	require.Equal(t, store.BroadcastSending, got.Status)
	require.NoError(t, b.OutboxDone(ctx, entries[0].ID), "again: counted once")
	require.NoError(t, b.OutboxFailed(ctx, entries[1].ID, "chat not found", false))
	require.NoError(t, b.OutboxFailed(ctx, entries[2].ID, "blocked", true))
	require.NoError(t, b.OutboxFailed(ctx, entries[2].ID, "blocked", true))
	require.NotZero(t, test[0].ID)
	require.NoError(t, b.OutboxDone(ctx, test[0].ID))
	got, err = b.Broadcast(ctx, bc.ID)
	require.NoError(t, err)
	require.Equal(t, []int{1, 1, 1}, []int{got.Sent, got.Failed, got.Blocked})
	require.Equal(t, "chat not found", got.LastError)
	require.Equal(t, store.BroadcastSending, got.Status)
	require.Equal(t, 1, got.Left())
	require.NoError(t, b.OutboxDone(ctx, entries[3].ID))
	got, err = b.Broadcast(ctx, bc.ID)
	require.NoError(t, err)
	require.Equal(t, store.BroadcastDone, got.Status, "every message accounted for")
	require.False(t, got.FinishedAt.IsZero())
	require.Equal(t, 2, got.Sent)
}

func testSentSince(t *testing.T, b Backend) {
	entries := []store.OutboxEntry{
		{To: addr("telegram:1"), Text: "a", Bulk: true},
		{To: addr("telegram:2"), Text: "b", Bulk: true},
		{To: addr("telegram:3"), Text: "c", Bulk: true},
		{To: addr("telegram:4"), Text: "notice"},
		{To: addr("whatsapp:9705"), Text: "d", Bulk: true},
	}
	require.NoError(t, b.Enqueue(ctx, entries...))
	require.NoError(t, b.OutboxDone(ctx, entries[0].ID, entries[1].ID, entries[3].ID, entries[4].ID))
	require.NoError(t, b.OutboxDone(ctx, entries[0].ID), "again: counted once")
	require.NoError(t, b.OutboxFailed(ctx, entries[2].ID, "gone", false))
	hourAgo := time.Now().Add(-time.Hour)
	for ch, want := range map[bot.ChannelName]int{bot.Telegram: 2, bot.WhatsApp: 1, bot.Console: 0} {
		n, err := b.OutboxSentSince(ctx, ch, hourAgo)
		require.NoError(t, err)
		require.Equal(t, want, n, "%s: bulk messages sent, not notices, not failures", ch)
	}
	n, err := b.OutboxSentSince(ctx, bot.Telegram, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.Zero(t, n, "nothing sent in the future")
}

func testCrash(t *testing.T, b Backend, r Reopener) {
	bc := &store.Broadcast{TextAR: "نداء"}
	require.NoError(t, b.CreateBroadcast(ctx, bc))
	entries := outboxEntries(30, "نداء")
	require.NoError(t, b.QueueBroadcast(ctx, bc.ID, entries))
	notice := []store.OutboxEntry{{To: addr("telegram:5"), Text: "reply"}}
	require.NoError(t, b.Enqueue(ctx, notice...))
	// sent and acknowledged, sent but not acknowledged (started), not sent
	var acked, started []uint64
	for i, e := range entries {
		switch i % 3 {
		case 0:
			acked = append(acked, e.ID)
		case 1:
			started = append(started, e.ID)
		}
	}
	require.NoError(t, b.OutboxDone(ctx, acked...))
	require.NoError(t, b.OutboxStarted(ctx, started...))
	// a unit of work that never committed
	_ = b.InTx(ctx, func(ctx context.Context) error {
		if err := b.Enqueue(ctx, store.OutboxEntry{To: addr("telegram:6"), Text: "never"}); err != nil {
			return err
		}
		return errors.New("crash before the commit")
	})

	b, err := r.Reopen()
	require.NoError(t, err)
	var want []uint64
	for _, e := range entries {
		if !slices.Contains(acked, e.ID) {
			want = append(want, e.ID)
		}
	}
	slices.Sort(want)
	var got []uint64
	for _, ch := range []bot.ChannelName{bot.Telegram, bot.WhatsApp} {
		for _, e := range allPending(t, b, ch, true) {
			got = append(got, e.ID)
			require.Equal(t, slices.Contains(started, e.ID), !e.Started.IsZero(), "entry %d keeps its Started mark", e.ID)
			require.Equal(t, "نداء", e.Text)
		}
	}
	slices.Sort(got)
	require.Equal(t, want, got, "exactly the entries not acknowledged are still queued")
	require.Equal(t, ids(notice), ids(allPending(t, b, bot.Telegram, false)), "the rolled-back entry is not there")
	after, err := b.Broadcast(ctx, bc.ID)
	require.NoError(t, err)
	require.Equal(t, len(acked), after.Sent)
	require.Equal(t, 30, after.Total)

	// acknowledging after the restart finishes the broadcast, each once
	require.NoError(t, b.OutboxDone(ctx, append(want, acked...)...))
	after, err = b.Broadcast(ctx, bc.ID)
	require.NoError(t, err)
	require.Equal(t, 30, after.Sent)
	require.Equal(t, store.BroadcastDone, after.Status)
}

func testClaims(t *testing.T, b Backend, c Claimer) {
	const lease = time.Minute
	var entries []store.OutboxEntry
	for i := range 10 {
		entries = append(entries, store.OutboxEntry{To: addr(fmt.Sprintf("telegram:%d", i+1)), Text: fmt.Sprint(i)})
	}
	require.NoError(t, b.Enqueue(ctx, entries...))
	first, err := c.ClaimOutbox(ctx, bot.Telegram, false, 4, lease)
	require.NoError(t, err)
	require.Equal(t, ids(entries[:4]), ids(first), "the oldest first")
	second, err := c.ClaimOutbox(ctx, bot.Telegram, false, 4, lease)
	require.NoError(t, err)
	require.Equal(t, ids(entries[4:8]), ids(second), "claimed entries are not claimed again")
	bulk, err := c.ClaimOutbox(ctx, bot.Telegram, true, 4, lease)
	require.NoError(t, err)
	require.Empty(t, bulk, "lanes are claimed apart")

	// acknowledged, retried later, and one dispatcher that died
	require.NoError(t, b.OutboxDone(ctx, ids(first[:2])...))
	require.NoError(t, b.OutboxRetry(ctx, first[2].ID, c.Now().Add(time.Hour), "429"))
	rest, err := c.ClaimOutbox(ctx, bot.Telegram, false, 10, lease)
	require.NoError(t, err)
	require.Equal(t, ids(entries[8:]), ids(rest), "a retry waits for its time")
	none, err := c.ClaimOutbox(ctx, bot.Telegram, false, 10, lease)
	require.NoError(t, err)
	require.Empty(t, none)
	require.Len(t, allPending(t, b, bot.Telegram, false), 8, "claimed entries are still queued")

	// the leases run out: what was claimed and not acknowledged comes back
	c.Advance(lease + time.Second)
	again, err := c.ClaimOutbox(ctx, bot.Telegram, false, 10, lease)
	require.NoError(t, err)
	want := append([]uint64{first[3].ID}, ids(second)...)
	want = append(want, ids(rest)...)
	require.Equal(t, want, ids(again))
	require.NoError(t, b.OutboxDone(ctx, ids(again)...))
	c.Advance(2 * time.Hour)
	retried, err := c.ClaimOutbox(ctx, bot.Telegram, false, 10, lease)
	require.NoError(t, err)
	require.Equal(t, []uint64{first[2].ID}, ids(retried), "the retry is due")
	require.Equal(t, 1, retried[0].Attempts)
	_, err = c.ClaimOutbox(ctx, bot.Telegram, false, 10, 0)
	require.Error(t, err, "a claim needs a lease")
}

func testConcurrentClaims(t *testing.T, b Backend, c Claimer) {
	const n, claimers = 600, 8
	entries := make([]store.OutboxEntry, n)
	for i := range entries {
		entries[i] = store.OutboxEntry{To: addr(fmt.Sprintf("telegram:%d", i+1)), Text: "x", Bulk: true}
	}
	require.NoError(t, b.Enqueue(ctx, entries...))
	var (
		mu    sync.Mutex
		taken = map[uint64]int{}
		wg    sync.WaitGroup
	)
	for range claimers {
		wg.Go(func() {
			for {
				got, err := c.ClaimOutbox(ctx, bot.Telegram, true, 7, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, e := range got {
					taken[e.ID]++
				}
				mu.Unlock()
				if err := b.OutboxDone(ctx, ids(got)...); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	require.Len(t, taken, n, "every entry claimed")
	for id, k := range taken {
		require.Equal(t, 1, k, "entry %d claimed once", id)
	}
	require.Empty(t, allPending(t, b, bot.Telegram, true))
}
