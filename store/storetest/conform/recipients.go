package conform

import (
	"context"
	"testing"
	"time"

	"mobilise/bot"
	"mobilise/store"

	"github.com/stretchr/testify/require"
)

// RecipientsBackend is a Backend that lists an audience's people.
type RecipientsBackend interface {
	Backend
	Recipients(ctx context.Context, aud store.Audience, channelOK func(channel bot.ChannelName) bool) ([]store.Recipient, error)
	RecipientsPage(ctx context.Context, aud store.Audience, channelOK func(channel bot.ChannelName) bool, after uint64, limit int) (store.RecipientPage, error)
}

// RunRecipients runs the tests of audiences' recipients, each on a new
// backend.
func RunRecipients(t *testing.T, open func(t *testing.T) RecipientsBackend) {
	t.Run("Recipients", func(t *testing.T) { testRecipients(t, open(t)) })
	t.Run("RecipientsPage", func(t *testing.T) { testRecipientsPage(t, open(t)) })
	t.Run("RecipientsInTransaction", func(t *testing.T) { testRecipientsInTx(t, open(t)) })
}

// audienceFixture makes people of every kind audiences tell apart and a
// campaign some of them pledged to.
func audienceFixture(t *testing.T, b Backend) ([]*store.Contact, *store.Campaign) {
	people := []audiencePerson{
		{addrs: []string{"telegram:1"}, consent: true, gov: "gaza", lang: "ar", member: true},
		{addrs: []string{"telegram:2", "whatsapp:9702"}, preferred: bot.WhatsApp, consent: true, gov: "hebron", lang: "en"},
		{addrs: []string{"telegram:3"}, consent: true, stopped: true, gov: "gaza"},
		{addrs: []string{"telegram:4"}, gov: "gaza"},
		{addrs: []string{"telegram:5", "whatsapp:9705"}, consent: true, gov: "gaza", unreachable: "telegram:5"},
		{addrs: []string{"whatsapp:9706"}, consent: true, unreachable: "whatsapp:9706"},
		{addrs: []string{"console:7"}, consent: true, gov: "gaza", lang: "en-US"},
	}
	names := []string{"Amal", "Basel", "Caro", "Dima", "Dana", "Eyad", "Ghada"}
	var contacts []*store.Contact
	for i, p := range people {
		c := person(t, b, p.addrs[0], func(c *store.Contact) {
			for _, a := range p.addrs[1:] {
				c.Addresses = append(c.Addresses, addr(a))
			}
			c.Name = names[i]
			c.PreferredChannel, c.Consent, c.Stopped, c.Governorate, c.Lang = p.preferred, p.consent, p.stopped, p.gov, p.lang
			if p.member {
				c.InstitutionID = 3
			}
			if p.unreachable != "" {
				c.Unreachable = map[bot.Address]time.Time{addr(p.unreachable): time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
			}
		})
		contacts = append(contacts, c)
	}
	camp := campaign(t, b, "olive", 0)
	for _, i := range []int{0, 1, 2, 3, 5} {
		_, err := b.AddPledge(ctx, pledge(camp.ID, contacts[i].ID))
		require.NoError(t, err)
	}
	return contacts, camp
}

func testRecipients(t *testing.T, b RecipientsBackend) {
	cs, camp := audienceFixture(t, b)
	amal := store.Recipient{ContactID: cs[0].ID, Address: addr("telegram:1"), Lang: "ar", Name: "Amal"}
	basel := store.Recipient{ContactID: cs[1].ID, Address: addr("whatsapp:9702"), Lang: "en", Name: "Basel"}
	dana := store.Recipient{ContactID: cs[4].ID, Address: addr("whatsapp:9705"), Lang: "ar", Name: "Dana"}
	ghada := store.Recipient{ContactID: cs[6].ID, Address: addr("console:7"), Lang: "en", Name: "Ghada"}
	telegramOnly := func(ch bot.ChannelName) bool { return ch == bot.Telegram }
	cases := []struct {
		label     string
		aud       store.Audience
		channelOK func(bot.ChannelName) bool
		want      []store.Recipient
	}{
		{"everyone", store.Audience{Kind: store.AudienceEveryone}, nil, []store.Recipient{amal, basel, dana, ghada}},
		{"everyone on telegram only", store.Audience{Kind: store.AudienceEveryone}, telegramOnly,
			[]store.Recipient{amal, {ContactID: cs[1].ID, Address: addr("telegram:2"), Lang: "en", Name: "Basel"}}},
		{"members", store.Audience{Kind: store.AudienceMembers}, nil, []store.Recipient{amal}},
		{"governorate", store.Audience{Kind: store.AudienceGovernorate, Governorate: "gaza"}, nil, []store.Recipient{amal, dana, ghada}},
		{"governorate nobody lives in", store.Audience{Kind: store.AudienceGovernorate, Governorate: "jenin"}, nil, nil},
		{"arabic", store.Audience{Kind: store.AudienceLang, Lang: "ar"}, nil, []store.Recipient{amal, dana}},
		{"english", store.Audience{Kind: store.AudienceLang, Lang: "en"}, nil, []store.Recipient{basel, ghada}},
		{"pledgers", store.Audience{Kind: store.AudiencePledgers, CampaignID: camp.ID}, nil, []store.Recipient{amal, basel}},
		{"not pledged", store.Audience{Kind: store.AudienceNotPledged, CampaignID: camp.ID}, nil, []store.Recipient{dana, ghada}},
		{"no channel accepted", store.Audience{Kind: store.AudienceEveryone}, func(bot.ChannelName) bool { return false }, nil},
	}
	for _, tc := range cases {
		got, err := b.Recipients(ctx, tc.aud, tc.channelOK)
		require.NoError(t, err, tc.label)
		require.Equal(t, tc.want, got, tc.label)
		n, err := b.CountAudience(ctx, tc.aud, tc.channelOK)
		require.NoError(t, err, tc.label)
		require.Equal(t, len(tc.want), n.Total, "%s: the count agrees with the list", tc.label)
	}
	_, err := b.Recipients(ctx, store.Audience{Kind: store.AudiencePledgers, CampaignID: camp.ID + 9}, nil)
	require.ErrorIs(t, err, store.ErrCampaignNotFound)
	_, err = b.Recipients(ctx, store.Audience{Kind: store.AudienceLang, Lang: "fr"}, nil)
	require.Error(t, err)
	_, err = b.RecipientsPage(ctx, store.Audience{Kind: "nobody"}, nil, 0, 10)
	require.Error(t, err)
}

func testRecipientsPage(t *testing.T, b RecipientsBackend) {
	cs, camp := audienceFixture(t, b)
	everyone := store.Audience{Kind: store.AudienceEveryone}
	page, err := b.RecipientsPage(ctx, everyone, nil, 0, 2)
	require.NoError(t, err)
	require.Equal(t, []uint64{cs[0].ID, cs[1].ID}, recipientIDs(page.Recipients))
	require.Equal(t, cs[1].ID, page.Through, "a full page ends at its last recipient")
	require.False(t, page.Last)
	page, err = b.RecipientsPage(ctx, everyone, nil, page.Through, 2)
	require.NoError(t, err)
	require.Equal(t, []uint64{cs[4].ID, cs[6].ID}, recipientIDs(page.Recipients), "the unreachable skipped")
	require.Equal(t, cs[6].ID, page.Through)
	require.False(t, page.Last, "full, so not known to be the last")
	page, err = b.RecipientsPage(ctx, everyone, nil, page.Through, 2)
	require.NoError(t, err)
	require.Empty(t, page.Recipients)
	require.True(t, page.Last)
	require.Equal(t, cs[6].ID, page.Through)

	page, err = b.RecipientsPage(ctx, everyone, nil, cs[1].ID, 10)
	require.NoError(t, err)
	require.Equal(t, []uint64{cs[4].ID, cs[6].ID}, recipientIDs(page.Recipients))
	require.True(t, page.Last)
	require.Equal(t, cs[6].ID, page.Through, "the scan ends at the last contact")

	pledgers := store.Audience{Kind: store.AudiencePledgers, CampaignID: camp.ID}
	page, err = b.RecipientsPage(ctx, pledgers, nil, cs[0].ID, 10)
	require.NoError(t, err)
	require.Equal(t, []uint64{cs[1].ID}, recipientIDs(page.Recipients))
	require.True(t, page.Last)
	require.Equal(t, cs[5].ID, page.Through, "the scan ends at the last pledger")

	page, err = b.RecipientsPage(ctx, everyone, nil, cs[6].ID+5, 10)
	require.NoError(t, err)
	require.Empty(t, page.Recipients)
	require.True(t, page.Last)
	require.Equal(t, cs[6].ID+5, page.Through, "nothing above after")

	page, err = b.RecipientsPage(ctx, everyone, nil, 0, 0)
	require.NoError(t, err)
	require.Len(t, page.Recipients, 4, "no limit")
	require.True(t, page.Last)
}

// testRecipientsInTransaction: a unit of work reads its own changes.
func testRecipientsInTx(t *testing.T, b RecipientsBackend) {
	c := person(t, b, "telegram:1", consenting("gaza", "ar"))
	require.NoError(t, b.InTx(ctx, func(ctx context.Context) error {
		if _, err := b.UpdateContact(ctx, c.ID, func(c *store.Contact) error {
			c.Stopped = true
			return nil
		}); err != nil {
			return err
		}
		got, err := b.Recipients(ctx, store.Audience{Kind: store.AudienceEveryone}, nil)
		require.Empty(t, got, "stopped inside the transaction")
		return err
	}))
	got, err := b.Recipients(ctx, store.Audience{Kind: store.AudienceGovernorate, Governorate: "gaza"}, nil)
	require.NoError(t, err)
	require.Empty(t, got)
}

func recipientIDs(rs []store.Recipient) []uint64 {
	out := []uint64{}
	for _, r := range rs {
		out = append(out, r.ContactID)
	}
	return out
}
