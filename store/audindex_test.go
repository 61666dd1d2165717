package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"mobilise/bot"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

// The audience spec, written without the counters or the stored form: who
// counts, read from whole contacts (Contacts), pledges and sign-ups, at the
// address ReachableAddress picks. The counters and the listing must agree
// with it on any data.
func specRecipients(t testing.TB, s *Store, aud Audience, channelOK func(bot.ChannelName) bool) []Recipient {
	t.Helper()
	ctx := context.Background()
	pledged, signed := map[uint64]bool{}, map[uint64]bool{}
	if aud.CampaignID != 0 {
		require.NoError(t, s.Pledges(ctx, aud.CampaignID, func(p *Pledge) error { pledged[p.ContactID] = true; return nil }))
		require.NoError(t, s.Signups(ctx, aud.CampaignID, func(su *Signup) error { signed[su.ContactID] = true; return nil }))
	}
	var out []Recipient
	require.NoError(t, s.Contacts(ctx, func(c *Contact) error {
		if !c.Consent || c.Stopped {
			return nil
		}
		if aud.Institution != 0 {
			sp, err := s.Supporter(ctx, aud.Institution, c.ID)
			if errors.Is(err, ErrNotFound) || err == nil && !sp.Active() {
				return nil
			}
			if err != nil {
				return err
			}
		}
		in := true
		switch aud.Kind {
		case AudienceMembers:
			in = c.InstitutionID != 0
		case AudienceGovernorate:
			in = c.Governorate == aud.Governorate
		case AudienceLang:
			in = langOf(c.Lang) == aud.Lang
		case AudiencePledgers:
			in = pledged[c.ID]
		case AudienceSignups:
			in = signed[c.ID]
		case AudienceNotPledged:
			in = !pledged[c.ID]
		}
		if !in {
			return nil
		}
		if addr, ok := c.ReachableAddress(channelOK); ok {
			out = append(out, Recipient{ContactID: c.ID, Address: addr, Lang: langOf(c.Lang), Name: c.Name})
		}
		return nil
	}))
	return out
}

var (
	testGovernorates = []string{"gaza", "nablus", "hebron", "jenin"}
	testChannels     = []bot.ChannelName{"telegram", "whatsapp", "console"}
	channelChoices   = map[string]func(bot.ChannelName) bool{
		"all":             nil,
		"telegram only":   func(ch bot.ChannelName) bool { return ch == "telegram" },
		"not telegram":    func(ch bot.ChannelName) bool { return ch != "telegram" },
		"none configured": func(bot.ChannelName) bool { return false },
	}
)

// allAudiences lists every audience over the test governorates and the campaigns.
func allAudiences(campaigns []uint64) []Audience {
	auds := []Audience{{Kind: AudienceEveryone}, {Kind: AudienceMembers}, {Kind: AudienceLang, Lang: "ar"}, {Kind: AudienceLang, Lang: "en"}}
	for _, g := range append(slices.Clone(testGovernorates), "ramallah") {
		auds = append(auds, Audience{Kind: AudienceGovernorate, Governorate: g})
	}
	for _, id := range campaigns {
		for _, k := range []AudienceKind{AudiencePledgers, AudienceSignups, AudienceNotPledged} {
			auds = append(auds, Audience{Kind: k, CampaignID: id})
		}
		// a broadcast about a campaign carries its ID whatever the audience;
		// a detail of another kind is ignored
		auds = append(auds, Audience{Kind: AudienceEveryone, CampaignID: id}, Audience{Kind: AudienceLang, Lang: "en", Governorate: "gaza", CampaignID: id})
	}
	return auds
}

// listAudiences are the audiences of institutions' lists: the counters
// keep a whole list; a part of one is counted by listing it.
func listAudiences(t *testing.T, s *Store, campaigns []uint64) []Audience {
	t.Helper()
	insts, err := s.Institutions(context.Background(), "")
	require.NoError(t, err)
	var auds []Audience
	for _, inst := range insts {
		auds = append(auds, Audience{Kind: AudienceEveryone, Institution: inst.ID},
			Audience{Kind: AudienceGovernorate, Governorate: testGovernorates[0], Institution: inst.ID},
			Audience{Kind: AudienceMembers, Institution: inst.ID})
		for _, id := range campaigns {
			auds = append(auds, Audience{Kind: AudiencePledgers, CampaignID: id, Institution: inst.ID},
				Audience{Kind: AudienceNotPledged, CampaignID: id, Institution: inst.ID},
				Audience{Kind: AudienceEveryone, CampaignID: id, Institution: inst.ID})
		}
	}
	return auds
}

// checkAudiences compares, for every audience and choice of channels, the
// count from the counters and the listing with the spec.
func checkAudiences(t *testing.T, s *Store, campaigns []uint64, step string) {
	t.Helper()
	ctx := context.Background()
	for _, aud := range append(allAudiences(campaigns), listAudiences(t, s, campaigns)...) {
		for label, ok := range channelChoices {
			want := specRecipients(t, s, aud, ok)
			got, err := s.Recipients(ctx, aud, ok)
			require.NoError(t, err)
			require.Equal(t, want, got, "%s: recipients of %+v on %s", step, aud, label)
			count, err := s.CountAudience(ctx, aud, ok)
			require.NoError(t, err)
			perChannel := map[bot.ChannelName]int{}
			for _, r := range want {
				perChannel[r.Address.Channel]++
			}
			require.Equal(t, AudienceCount{Total: len(want), PerChannel: perChannel}, count, "%s: count of %+v on %s", step, aud, label)
		}
	}
	require.NoError(t, s.Check(), step)
}

// randomPerson gives c random attributes of every kind an audience reads.
func randomPerson(rng *rand.Rand, c *Contact, n int) {
	c.Consent = rng.IntN(5) > 0
	c.Stopped = rng.IntN(6) == 0
	c.Governorate = ""
	if g := rng.IntN(len(testGovernorates) + 1); g < len(testGovernorates) {
		c.Governorate = testGovernorates[g]
	}
	c.Lang = []string{"ar", "en", "en-US", "", "fr", "EN"}[rng.IntN(6)]
	c.Role = []Role{"", RoleCitizen, RoleMember, RoleCoordinator, RoleAdmin}[rng.IntN(5)]
	c.InstitutionID = 0
	if rng.IntN(4) == 0 {
		c.InstitutionID = uint64(1 + rng.IntN(3))
	}
	c.Name = fmt.Sprintf("شخص %d", n)
	var addrs []bot.Address
	for _, ch := range testChannels {
		if rng.IntN(2) == 0 {
			addrs = append(addrs, bot.Address{Channel: ch, ID: fmt.Sprintf("%d-%d", n, rng.IntN(1000))})
		}
	}
	if len(addrs) == 0 {
		addrs = c.Addresses
	}
	rng.Shuffle(len(addrs), func(i, j int) { addrs[i], addrs[j] = addrs[j], addrs[i] })
	c.Addresses = addrs
	c.PreferredChannel = ""
	if p := rng.IntN(len(testChannels) + 1); p < len(testChannels) {
		c.PreferredChannel = testChannels[p]
	}
	c.Unreachable = nil
	for _, a := range c.Addresses {
		if rng.IntN(4) == 0 {
			if c.Unreachable == nil {
				c.Unreachable = map[bot.Address]time.Time{}
			}
			c.Unreachable[a] = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
		}
	}
}

func TestAudienceCountsEqualTheSpecOnRandomData(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	var campaigns []uint64
	for i := range 3 {
		campaigns = append(campaigns, campaign(t, s, fmt.Sprintf("c%d", i), 0).ID)
	}
	var ids []uint64
	for n := range 300 {
		c, _, err := s.EnsureContact(ctx, bot.Address{Channel: "telegram", ID: fmt.Sprintf("start-%d", n)}, "", "")
		require.NoError(t, err)
		_, err = s.UpdateContact(ctx, c.ID, func(c *Contact) error { randomPerson(rng, c, n); return nil })
		require.NoError(t, err)
		ids = append(ids, c.ID)
	}
	for _, id := range ids {
		for _, cid := range campaigns {
			if rng.IntN(3) == 0 {
				_, err := s.AddPledge(ctx, Pledge{CampaignID: cid, ContactID: id})
				require.NoError(t, err)
			}
			if rng.IntN(4) == 0 {
				_, err := s.AddSignup(ctx, Signup{CampaignID: cid, ContactID: id})
				require.NoError(t, err)
			}
		}
	}
	insts := []*Institution{memberInstitution(t, s, "Dialogue Centre"), memberInstitution(t, s, "Peace Forum")}
	for _, id := range ids {
		for _, inst := range insts {
			if rng.IntN(3) == 0 {
				_, err := s.AddSupporter(ctx, Support{InstitutionID: inst.ID, ContactID: id, Via: ViaLink}, false)
				require.NoError(t, err)
				if rng.IntN(4) == 0 {
					_, err := s.LeaveSupporters(ctx, inst.ID, id)
					require.NoError(t, err)
				}
			}
		}
	}
	// forgotten pledgers leave anonymous pledges, which reach no one
	for _, id := range ids[:10] {
		require.NoError(t, s.ForgetContact(ctx, id))
	}
	checkAudiences(t, s, campaigns, "random data")
}

// TestAudienceCountsFollowEveryChange makes every kind of change that moves
// a person between audiences, at random, and checks the counters against
// the spec after each one.
func TestAudienceCountsFollowEveryChange(t *testing.T) {
	s, clock := openTestStore(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	var campaigns []uint64
	for i := range 2 {
		campaigns = append(campaigns, campaign(t, s, fmt.Sprintf("c%d", i), 0).ID)
	}
	insts := []*Institution{memberInstitution(t, s, "Dialogue Centre"), memberInstitution(t, s, "Peace Forum")}
	pickInst := func() uint64 { return insts[rng.IntN(len(insts))].ID }
	var ids []uint64
	n := 0
	pick := func() uint64 { return ids[rng.IntN(len(ids))] }
	update := func(fn func(c *Contact)) error {
		_, err := s.UpdateContact(ctx, pick(), func(c *Contact) error { fn(c); return nil })
		return err
	}
	changes := []struct {
		name string
		do   func() error
	}{
		{"new person", func() error {
			n++
			c, _, err := s.EnsureContact(ctx, bot.Address{Channel: testChannels[rng.IntN(3)], ID: fmt.Sprintf("p%d", n)}, fmt.Sprintf("شخص %d", n), "")
			if err == nil {
				ids = append(ids, c.ID)
			}
			return err
		}},
		{"consent", func() error { return update(func(c *Contact) { c.Consent, c.Stopped = true, false }) }},
		{"no consent", func() error { return update(func(c *Contact) { c.Consent = false }) }},
		{"stop", func() error { return update(func(c *Contact) { c.Stopped = true }) }},
		{"resume", func() error { return update(func(c *Contact) { c.Stopped = false }) }},
		{"governorate", func() error {
			return update(func(c *Contact) { c.Governorate = testGovernorates[rng.IntN(len(testGovernorates))] })
		}},
		{"language", func() error { return update(func(c *Contact) { c.Lang = []string{"ar", "en", "en-GB"}[rng.IntN(3)] }) }},
		{"role", func() error {
			return update(func(c *Contact) { c.Role = []Role{RoleCitizen, RoleMember, RoleAdmin}[rng.IntN(3)] })
		}},
		{"institution", func() error {
			return update(func(c *Contact) { c.InstitutionID = uint64(rng.IntN(3)) })
		}},
		{"preferred channel", func() error { return update(func(c *Contact) { c.PreferredChannel = testChannels[rng.IntN(3)] }) }},
		{"unreachable", func() error {
			return update(func(c *Contact) {
				if c.Unreachable == nil {
					c.Unreachable = map[bot.Address]time.Time{}
				}
				c.Unreachable[c.Addresses[rng.IntN(len(c.Addresses))]] = clock.Now()
			})
		}},
		{"reachable again", func() error { return update(func(c *Contact) { c.Unreachable = nil }) }},
		{"seen, renamed", func() error {
			c, err := s.Contact(ctx, pick())
			if err != nil {
				return err
			}
			clock.Add(2 * time.Minute)
			_, _, err = s.EnsureContact(ctx, c.Addresses[0], fmt.Sprintf("اسم %d", rng.IntN(100)), "en")
			return err
		}},
		{"link", func() error {
			keep, merge := pick(), pick()
			if keep == merge {
				return nil
			}
			_, err := s.LinkAddresses(ctx, keep, merge)
			if err == nil {
				ids = slices.DeleteFunc(ids, func(id uint64) bool { return id == merge })
			}
			return err
		}},
		{"forget", func() error {
			if len(ids) < 5 {
				return nil
			}
			id := pick()
			ids = slices.DeleteFunc(ids, func(x uint64) bool { return x == id })
			return s.ForgetContact(ctx, id)
		}},
		{"pledge", func() error {
			_, err := s.AddPledge(ctx, Pledge{CampaignID: campaigns[rng.IntN(2)], ContactID: pick()})
			if errors.Is(err, ErrAlreadyPledged) {
				return nil
			}
			return err
		}},
		{"withdraw", func() error {
			_, err := s.WithdrawPledge(ctx, campaigns[rng.IntN(2)], pick())
			if errors.Is(err, ErrNotFound) {
				return nil
			}
			return err
		}},
		{"sign up", func() error {
			_, err := s.AddSignup(ctx, Signup{CampaignID: campaigns[rng.IntN(2)], ContactID: pick()})
			if errors.Is(err, ErrAlreadySignedUp) {
				return nil
			}
			return err
		}},
		{"cancel sign-up", func() error {
			_, err := s.CancelSignup(ctx, campaigns[rng.IntN(2)], pick())
			if errors.Is(err, ErrNotFound) {
				return nil
			}
			return err
		}},
		{"join a list", func() error {
			_, err := s.AddSupporter(ctx, Support{InstitutionID: pickInst(), ContactID: pick(), Via: ViaPledge}, false)
			return err
		}},
		{"join a list again", func() error {
			_, err := s.AddSupporter(ctx, Support{InstitutionID: pickInst(), ContactID: pick(), Via: ViaLink}, true)
			return err
		}},
		{"leave a list", func() error {
			_, err := s.LeaveSupporters(ctx, pickInst(), pick())
			return err
		}},
		{"several changes in one unit of work", func() error {
			return s.InTx(ctx, func(ctx context.Context) error {
				id := pick()
				if _, err := s.UpdateContact(ctx, id, func(c *Contact) error { c.Consent = true; return nil }); err != nil {
					return err
				}
				if _, err := s.AddPledge(ctx, Pledge{CampaignID: campaigns[0], ContactID: id}); err != nil && !errors.Is(err, ErrAlreadyPledged) {
					return err
				}
				_, err := s.UpdateContact(ctx, id, func(c *Contact) error { c.Governorate = "jenin"; return nil })
				return err
			})
		}},
	}
	for range 8 {
		require.NoError(t, changes[0].do())
	}
	for i := range 400 {
		ch := changes[rng.IntN(len(changes))]
		require.NoError(t, ch.do(), "change %d: %s", i, ch.name)
		if i%10 == 0 || i > 380 {
			checkAudiences(t, s, campaigns, fmt.Sprintf("after change %d (%s)", i, ch.name))
		} else {
			require.NoError(t, s.Check(), "after change %d (%s)", i, ch.name)
		}
	}
}

func TestRecipientsPagesCoverTheAudienceOnce(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	bulkAudience(t, s, 95)
	camp := campaign(t, s, "olive", 0)
	for id := uint64(3); id <= 95; id += 4 {
		_, err := s.AddPledge(ctx, Pledge{CampaignID: camp.ID, ContactID: id})
		require.NoError(t, err)
	}
	inst := memberInstitution(t, s, "Dialogue Centre")
	for id := uint64(2); id <= 95; id += 3 {
		_, err := s.AddSupporter(ctx, Support{InstitutionID: inst.ID, ContactID: id, Via: ViaLink}, false)
		require.NoError(t, err)
	}
	for _, aud := range []Audience{
		{Kind: AudienceEveryone}, {Kind: AudiencePledgers, CampaignID: camp.ID}, {Kind: AudienceNotPledged, CampaignID: camp.ID},
		{Kind: AudienceEveryone, Institution: inst.ID}, {Kind: AudiencePledgers, CampaignID: camp.ID, Institution: inst.ID},
		{Kind: AudienceNotPledged, CampaignID: camp.ID, Institution: inst.ID},
	} {
		want, err := s.Recipients(ctx, aud, nil)
		require.NoError(t, err)
		var got []Recipient
		var after uint64
		for pages := 0; ; pages++ {
			require.Less(t, pages, 100, "paging ends")
			page, err := s.RecipientsPage(ctx, aud, nil, after, 7)
			require.NoError(t, err)
			require.LessOrEqual(t, len(page.Recipients), 7)
			got = append(got, page.Recipients...)
			if page.Last {
				break
			}
			require.Greater(t, page.Through, after, "each page moves on")
			after = page.Through
		}
		assert.NotEmpty(t, want, "%+v", aud)
		assert.Equal(t, want, got, "%+v", aud)
	}
}

func TestEveryAudienceHasCounters(t *testing.T) {
	for _, aud := range allAudiences([]uint64{1, 2}) {
		plus, _, counted := audienceSegments(aud)
		assert.True(t, counted, "%+v is counted from its counters, not by listing it", aud)
		assert.NotEmpty(t, plus)
	}
	_, _, counted := audienceSegments(Audience{Kind: "friends"})
	assert.False(t, counted, "an unknown kind")
	plus, _, counted := audienceSegments(Audience{Kind: AudienceEveryone, Institution: 3, CampaignID: 1})
	assert.True(t, counted, "an institution's whole list")
	assert.Equal(t, segment(segSupporters, itob(3)), plus)
	_, _, counted = audienceSegments(Audience{Kind: AudienceGovernorate, Governorate: "gaza", Institution: 3})
	assert.False(t, counted, "a part of a list is an intersection: counted by listing")
}

func TestCheckFindsAudienceCountersOutOfStep(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	c := person(t, s, addrList("telegram:1"), func(c *Contact) { c.Consent, c.Governorate = true, "gaza" })
	require.NoError(t, s.Check())
	sig := append(appendPart(nil, nil), appendPart(nil, []byte("telegram"))...)
	gaza := countKey(segment(segGovernorate, []byte("gaza")), sig)
	require.NoError(t, s.DB().Update(func(tx *bbolt.Tx) error {
		counts := tx.Bucket(bucketAudienceCounts)
		require.Equal(t, uint64(1), btoi(counts.Get(gaza)), "one person of gaza, reached on telegram")
		if err := counts.Put(gaza, itob(3)); err != nil {
			return err
		}
		return counts.Delete(countKey(segment(segEveryone, nil), sig))
	}))
	err := s.Check()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "says 3, the records 1")
	assert.Contains(t, err.Error(), "is missing: the records count 1")
	// a person's /stop is kept even where a counter would fall below zero
	_, err = s.UpdateContact(ctx, c.ID, func(c *Contact) error { c.Stopped = true; return nil })
	require.NoError(t, err)
	got, err := s.Contact(ctx, c.ID)
	require.NoError(t, err)
	assert.True(t, got.Stopped)
	require.Error(t, s.Check(), "the counter of gaza still says 2")
	require.NoError(t, s.RecountAudiences(ctx))
	require.NoError(t, s.Check())
	n, err := s.CountAudience(ctx, Audience{Kind: AudienceGovernorate, Governorate: "gaza"}, nil)
	require.NoError(t, err)
	assert.Zero(t, n.Total)
}
