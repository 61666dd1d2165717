package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"mobilise/bot"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

// person creates a contact at the given addresses and lets set shape it.
func person(t testing.TB, s *Store, addrs []bot.Address, set func(c *Contact)) *Contact {
	t.Helper()
	c, _, err := s.EnsureContact(context.Background(), addrs[0], "", "")
	require.NoError(t, err)
	c, err = s.UpdateContact(context.Background(), c.ID, func(c *Contact) error {
		c.Addresses = addrs
		set(c)
		return nil
	})
	require.NoError(t, err)
	return c
}

func TestRecipients(t *testing.T) {
	s, clock := openTestStore(t)
	camp := campaign(t, s, "olive", 10)
	other := campaign(t, s, "water", 10)
	consent := func(c *Contact) { c.Consent = true }

	amal := person(t, s, addrList("telegram:1"), func(c *Contact) {
		consent(c)
		c.Name, c.Lang, c.Governorate, c.Role, c.InstitutionID = "Amal", "ar", "gaza", RoleMember, 1
	})
	// on two channels, prefers WhatsApp
	basel := person(t, s, addrList("telegram:2", "whatsapp:9702"), func(c *Contact) {
		consent(c)
		c.Name, c.Lang, c.Governorate, c.PreferredChannel = "Basel", "en", "hebron", "whatsapp"
	})
	stopped := person(t, s, addrList("telegram:3"), func(c *Contact) {
		consent(c)
		c.Stopped, c.Governorate = true, "gaza"
	})
	noConsent := person(t, s, addrList("telegram:4"), func(c *Contact) { c.Governorate = "gaza" })
	// blocked the bot on Telegram: reached on WhatsApp; no language yet (Arabic)
	dana := person(t, s, addrList("telegram:5", "whatsapp:9705"), func(c *Contact) {
		consent(c)
		c.Name, c.Governorate = "Dana", "gaza"
		c.Unreachable = map[bot.Address]time.Time{bot.MustParseAddress("telegram:5"): clock.Now()}
	})
	// unreachable everywhere
	gone := person(t, s, addrList("whatsapp:9706"), func(c *Contact) {
		consent(c)
		c.Unreachable = map[bot.Address]time.Time{bot.MustParseAddress("whatsapp:9706"): clock.Now()}
	})
	// an admin in the store, with a regional English variant
	ghada := person(t, s, addrList("console:7"), func(c *Contact) {
		consent(c)
		c.Name, c.Lang, c.Governorate, c.Role = "Ghada", "en-US", "gaza", RoleAdmin
	})

	for _, id := range []uint64{amal.ID, basel.ID, stopped.ID, noConsent.ID, gone.ID} {
		_, err := s.AddPledge(context.Background(), Pledge{CampaignID: camp.ID, ContactID: id})
		require.NoError(t, err)
	}
	for _, id := range []uint64{amal.ID, ghada.ID, stopped.ID} {
		_, err := s.AddSignup(context.Background(), Signup{CampaignID: camp.ID, ContactID: id})
		require.NoError(t, err)
	}
	_, err := s.AddPledge(context.Background(), Pledge{CampaignID: other.ID, ContactID: dana.ID})
	require.NoError(t, err)
	// a pledger who was forgotten leaves an anonymous pledge
	forgotten := person(t, s, addrList("telegram:8"), consent)
	_, err = s.AddPledge(context.Background(), Pledge{CampaignID: camp.ID, ContactID: forgotten.ID})
	require.NoError(t, err)
	require.NoError(t, s.ForgetContact(context.Background(), forgotten.ID))

	rAmal := Recipient{ContactID: amal.ID, Address: bot.MustParseAddress("telegram:1"), Lang: "ar", Name: "Amal"}
	rBasel := Recipient{ContactID: basel.ID, Address: bot.MustParseAddress("whatsapp:9702"), Lang: "en", Name: "Basel"}
	rDana := Recipient{ContactID: dana.ID, Address: bot.MustParseAddress("whatsapp:9705"), Lang: "ar", Name: "Dana"}
	rGhada := Recipient{ContactID: ghada.ID, Address: bot.MustParseAddress("console:7"), Lang: "en", Name: "Ghada"}
	telegramOnly := func(ch bot.ChannelName) bool { return ch == "telegram" }

	cases := []struct {
		label     string
		aud       Audience
		channelOK func(bot.ChannelName) bool
		want      []Recipient
	}{
		{"everyone", Audience{Kind: AudienceEveryone}, nil, []Recipient{rAmal, rBasel, rDana, rGhada}},
		{"everyone on telegram only", Audience{Kind: AudienceEveryone}, telegramOnly,
			[]Recipient{rAmal, {ContactID: basel.ID, Address: bot.MustParseAddress("telegram:2"), Lang: "en", Name: "Basel"}}},
		// an institution's representative; the stored admin represents none
		{"members", Audience{Kind: AudienceMembers}, nil, []Recipient{rAmal}},
		{"governorate", Audience{Kind: AudienceGovernorate, Governorate: "gaza"}, nil, []Recipient{rAmal, rDana, rGhada}},
		{"arabic", Audience{Kind: AudienceLang, Lang: "ar"}, nil, []Recipient{rAmal, rDana}},
		{"english", Audience{Kind: AudienceLang, Lang: "en"}, nil, []Recipient{rBasel, rGhada}},
		{"pledgers", Audience{Kind: AudiencePledgers, CampaignID: camp.ID}, nil, []Recipient{rAmal, rBasel}},
		{"signups", Audience{Kind: AudienceSignups, CampaignID: camp.ID}, nil, []Recipient{rAmal, rGhada}},
		{"not pledged", Audience{Kind: AudienceNotPledged, CampaignID: camp.ID}, nil, []Recipient{rDana, rGhada}},
		{"not pledged to the other", Audience{Kind: AudienceNotPledged, CampaignID: other.ID}, nil, []Recipient{rAmal, rBasel, rGhada}},
		{"no channel configured", Audience{Kind: AudienceEveryone}, func(bot.ChannelName) bool { return false }, nil},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			got, err := s.Recipients(context.Background(), tc.aud, tc.channelOK)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}

	assert.Equal(t, bot.WhatsApp, rBasel.Channel())
}

func TestRecipientsRejectsBadAudience(t *testing.T) {
	s, _ := openTestStore(t)
	for _, aud := range []Audience{
		{},
		{Kind: "friends"},
		{Kind: AudienceGovernorate},
		{Kind: AudienceLang, Lang: "fr"},
		{Kind: AudiencePledgers},
		{Kind: AudienceNotPledged},
	} {
		_, err := s.Recipients(context.Background(), aud, nil)
		assert.Error(t, err, "%+v", aud)
	}
	_, err := s.Recipients(context.Background(), Audience{Kind: AudienceSignups, CampaignID: 99}, nil)
	require.ErrorIs(t, err, ErrCampaignNotFound)
}

func TestReachableAddress(t *testing.T) {
	c := &Contact{
		Addresses:        addrList("telegram:1", "whatsapp:2", "console:3"),
		PreferredChannel: "console",
		Unreachable:      map[bot.Address]time.Time{bot.MustParseAddress("console:3"): {}},
	}
	addr, ok := c.ReachableAddress(nil)
	assert.True(t, ok)
	assert.Equal(t, bot.MustParseAddress("telegram:1"), addr, "preferred is unreachable: the first usable")
	addr, ok = c.ReachableAddress(func(ch bot.ChannelName) bool { return ch == "whatsapp" })
	assert.True(t, ok)
	assert.Equal(t, bot.MustParseAddress("whatsapp:2"), addr)
	c.PreferredChannel = "whatsapp"
	addr, _ = c.ReachableAddress(nil)
	assert.Equal(t, bot.MustParseAddress("whatsapp:2"), addr)
	_, ok = c.ReachableAddress(func(bot.ChannelName) bool { return false })
	assert.False(t, ok)
}

// bulkAudience writes n consenting contacts telegram:1 … telegram:n, every
// third also on WhatsApp, every tenth stopped, in one transaction.
func bulkAudience(tb testing.TB, s *Store, n int) {
	tb.Helper()
	require.NoError(tb, s.DB().Update(func(tx *bbolt.Tx) error {
		contacts := tx.Bucket(bucketContacts)
		contacts.FillPercent = fillPercent
		for i := 1; i <= n; i++ {
			id, err := contacts.NextSequence()
			if err != nil {
				return err
			}
			c := Contact{ID: id, Addresses: addrList(fmt.Sprintf("telegram:%d", 100000000+i)), Name: fmt.Sprintf("Person %d", i),
				Lang: "ar", Consent: true, Stopped: i%10 == 0, Governorate: "gaza", RefCode: fmt.Sprintf("code%d", id),
				CreatedAt: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
			if i%3 == 0 {
				c.Addresses = append(c.Addresses, bot.MustParseAddress(fmt.Sprintf("whatsapp:97059%07d", i)))
				c.PreferredChannel = "whatsapp"
			}
			if err := putContact(tx, &c, nil); err != nil {
				return err
			}
			for _, a := range c.Addresses {
				if err := tx.Bucket(bucketAddresses).Put(addrKey(a), itob(id)); err != nil {
					return err
				}
			}
			if err := tx.Bucket(bucketRefCodes).Put([]byte(c.RefCode), itob(id)); err != nil {
				return err
			}
		}
		return nil
	}))
}

// BenchmarkRecipients100k selects everyone of 100,000 contacts.
func BenchmarkRecipients100k(b *testing.B) {
	s, err := Open(b.TempDir() + "/bench.db")
	require.NoError(b, err)
	b.Cleanup(func() { require.NoError(b, s.Close()) })
	bulkAudience(b, s, 100_000)
	b.ResetTimer()
	for b.Loop() {
		got, err := s.Recipients(context.Background(), Audience{Kind: AudienceEveryone}, nil)
		require.NoError(b, err)
		require.Len(b, got, 90_000)
	}
}
