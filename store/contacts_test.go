package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"mobilise/bot"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

var refCodeForm = regexp.MustCompile(`^[abcdefghjkmnpqrstuvwxyz23456789]{6,8}$`)

func TestEnsureContact(t *testing.T) {
	s, clock := openTestStore(t)
	start := clock.Now()

	c, created, err := s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:100"), "Salma", "ar")
	require.NoError(t, err)
	assert.True(t, created)
	assert.NotZero(t, c.ID)
	assert.Equal(t, addrList("telegram:100"), c.Addresses)
	assert.Equal(t, "Salma", c.Name)
	assert.Equal(t, "ar", c.Lang)
	assert.Regexp(t, refCodeForm, c.RefCode)
	assert.Equal(t, start, c.CreatedAt)
	assert.Equal(t, start, c.SeenAt)

	// the same address finds the same person; a language they have is kept
	clock.Add(2 * time.Minute)
	again, created, err := s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:100"), "Salma K.", "en")
	require.NoError(t, err)
	assert.False(t, created)
	assert.Equal(t, c.ID, again.ID)
	assert.Equal(t, c.RefCode, again.RefCode)
	assert.Equal(t, "Salma K.", again.Name)
	assert.Equal(t, "ar", again.Lang)
	assert.Equal(t, start.Add(2*time.Minute), again.SeenAt)
	assert.Equal(t, start, again.CreatedAt)

	// an empty name keeps the stored one
	again, _, err = s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:100"), "", "")
	require.NoError(t, err)
	assert.Equal(t, "Salma K.", again.Name)

	stored, err := s.Contact(context.Background(), c.ID)
	require.NoError(t, err)
	assert.Equal(t, again, stored)

	other, created, err := s.EnsureContact(context.Background(), bot.MustParseAddress("whatsapp:970599000001"), "", "")
	require.NoError(t, err)
	assert.True(t, created)
	assert.Greater(t, other.ID, c.ID)
	assert.NotEqual(t, c.RefCode, other.RefCode)
	assert.Empty(t, other.Lang)

	for _, bad := range []bot.Address{{}, {Channel: bot.Telegram}, {ID: "123"}} {
		_, _, err := s.EnsureContact(context.Background(), bad, "x", "")
		assert.Error(t, err, "address %q", bad)
	}
}

func TestEnsureContactSeenWithinAMinuteWritesNothing(t *testing.T) {
	s, clock := openTestStore(t)
	c, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("console:alice"), "Alice", "en")
	require.NoError(t, err)
	before := s.DB().Stats()
	clock.Add(30 * time.Second)
	again, created, err := s.EnsureContact(context.Background(), bot.MustParseAddress("console:alice"), "Alice", "en")
	require.NoError(t, err)
	assert.False(t, created)
	assert.Equal(t, c.SeenAt, again.SeenAt)
	after := s.DB().Stats()
	assert.Equal(t, before.TxStats.GetWrite(), after.TxStats.GetWrite(), "nothing written")
}

func TestEnsureContactConcurrentSameAddress(t *testing.T) {
	s, _ := openTestStore(t)
	var wg sync.WaitGroup
	ids := make([]uint64, 20)
	created := make([]bool, 20)
	for i := range ids {
		wg.Go(func() {
			c, cr, err := s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:7"), "N", "ar")
			assert.NoError(t, err)
			if c != nil {
				ids[i], created[i] = c.ID, cr
			}
		})
	}
	wg.Wait()
	n := 0
	for i := range ids {
		assert.Equal(t, ids[0], ids[i])
		if created[i] {
			n++
		}
	}
	assert.Equal(t, 1, n, "created exactly once")
}

func TestRandomCode(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		code, err := randomCode(refCodeLen)
		require.NoError(t, err)
		require.Regexp(t, refCodeForm, code)
		seen[code] = true
	}
	assert.Greater(t, len(seen), 990)
}

func TestNewRefCodeGrowsWhenCrowded(t *testing.T) {
	s, _ := openTestStore(t)
	require.NoError(t, s.DB().Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket([]byte("crowded"))
		require.NoError(t, err)
		for _, r := range refAlphabet {
			require.NoError(t, b.Put([]byte{byte(r)}, itob(1)))
		}
		code, err := newRefCode(b, 1)
		require.NoError(t, err)
		assert.Len(t, code, 2, "every one-letter code is taken")
		code, err = newRefCode(tx.Bucket(bucketRefCodes), refCodeLen)
		require.NoError(t, err)
		assert.Len(t, code, refCodeLen)
		return tx.DeleteBucket([]byte("crowded"))
	}))
}

func TestContactLookups(t *testing.T) {
	s, _ := openTestStore(t)
	c, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:5"), "Omar", "ar")
	require.NoError(t, err)

	got, err := s.ContactByAddress(context.Background(), bot.MustParseAddress("telegram:5"))
	require.NoError(t, err)
	assert.Equal(t, c.ID, got.ID)
	got, err = s.ContactByRefCode(context.Background(), strings.ToUpper(c.RefCode))
	require.NoError(t, err)
	assert.Equal(t, c.ID, got.ID)
	got, err = s.ContactByRefCode(context.Background(), " "+c.RefCode+" ")
	require.NoError(t, err)
	assert.Equal(t, c.ID, got.ID)

	_, err = s.Contact(context.Background(), c.ID+100)
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = s.ContactByAddress(context.Background(), bot.MustParseAddress("telegram:6"))
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = s.ContactByRefCode(context.Background(), "zzzzzzz")
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = s.ContactByRefCode(context.Background(), "")
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestUpdateContact(t *testing.T) {
	s, _ := openTestStore(t)
	a, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:1"), "A", "")
	require.NoError(t, err)
	b, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:2"), "B", "")
	require.NoError(t, err)

	got, err := s.UpdateContact(context.Background(), a.ID, func(c *Contact) error {
		c.ID = 999 // ignored
		c.Lang = "en"
		c.Consent = true
		c.Addresses = addrList("telegram:1", "console:a", "console:a")
		c.RefCode = "MyCode7"
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, a.ID, got.ID)
	assert.Equal(t, addrList("telegram:1", "console:a"), got.Addresses)
	assert.Equal(t, "mycode7", got.RefCode)
	found, err := s.ContactByAddress(context.Background(), bot.MustParseAddress("console:a"))
	require.NoError(t, err)
	assert.Equal(t, a.ID, found.ID)
	found, err = s.ContactByRefCode(context.Background(), "MYCODE7")
	require.NoError(t, err)
	assert.Equal(t, a.ID, found.ID)
	_, err = s.ContactByRefCode(context.Background(), a.RefCode)
	assert.ErrorIs(t, err, ErrNotFound, "old share code released")

	// dropping an address releases it
	_, err = s.UpdateContact(context.Background(), a.ID, func(c *Contact) error {
		c.Addresses = addrList("console:a")
		return nil
	})
	require.NoError(t, err)
	_, err = s.ContactByAddress(context.Background(), bot.MustParseAddress("telegram:1"))
	assert.ErrorIs(t, err, ErrNotFound)

	// fn's error writes nothing
	boom := errors.New("boom")
	_, err = s.UpdateContact(context.Background(), a.ID, func(c *Contact) error {
		c.Name = "changed"
		c.Addresses = append(c.Addresses, bot.MustParseAddress("telegram:3"))
		return boom
	})
	require.ErrorIs(t, err, boom)
	unchanged, err := s.Contact(context.Background(), a.ID)
	require.NoError(t, err)
	assert.Equal(t, "A", unchanged.Name)
	_, err = s.ContactByAddress(context.Background(), bot.MustParseAddress("telegram:3"))
	assert.ErrorIs(t, err, ErrNotFound)

	// another's address or share code is refused
	_, err = s.UpdateContact(context.Background(), a.ID, func(c *Contact) error {
		c.Addresses = append(c.Addresses, bot.MustParseAddress("telegram:2"))
		return nil
	})
	assert.ErrorIs(t, err, ErrAddressTaken)
	_, err = s.UpdateContact(context.Background(), a.ID, func(c *Contact) error {
		c.RefCode = b.RefCode
		return nil
	})
	assert.ErrorIs(t, err, ErrCodeTaken)
	_, err = s.UpdateContact(context.Background(), a.ID, func(c *Contact) error {
		c.RefCode = ""
		return nil
	})
	assert.Error(t, err)
	_, err = s.UpdateContact(context.Background(), a.ID, func(c *Contact) error {
		c.Addresses = append(c.Addresses, bot.MustParseAddress("nonsense"))
		return nil
	})
	assert.Error(t, err)

	_, err = s.UpdateContact(context.Background(), 12345, func(*Contact) error { return nil })
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestContactsIteratesAllPages(t *testing.T) {
	s, _ := openTestStore(t)
	const n = pageSize*2 + 7
	require.NoError(t, bulkContacts(s, n))
	var ids []uint64
	require.NoError(t, s.Contacts(context.Background(), func(c *Contact) error {
		ids = append(ids, c.ID)
		return nil
	}))
	require.Len(t, ids, n)
	for i, id := range ids {
		assert.Equal(t, uint64(i+1), id)
	}

	// fn may write to the store, and its error stops the scan as it is
	stop := errors.New("stop")
	seen := 0
	err := s.Contacts(context.Background(), func(c *Contact) error {
		seen++
		if _, err := s.UpdateContact(context.Background(), c.ID, func(c *Contact) error { c.Stopped = true; return nil }); err != nil {
			return err
		}
		if seen == 3 {
			return stop
		}
		return nil
	})
	assert.Equal(t, stop, err)
	assert.Equal(t, 3, seen)
}

// bulkContacts creates contacts console:1 … console:n in one transaction.
func bulkContacts(s *Store, n int) error {
	return s.DB().Update(func(tx *bbolt.Tx) error {
		contacts := tx.Bucket(bucketContacts)
		for i := 1; i <= n; i++ {
			id, err := contacts.NextSequence()
			if err != nil {
				return err
			}
			addr, code := fmt.Sprintf("console:%d", i), fmt.Sprintf("code%d", id)
			if err := putContact(tx, &Contact{ID: id, Addresses: addrList(addr), RefCode: code}, nil); err != nil {
				return err
			}
			if err := tx.Bucket(bucketAddresses).Put([]byte(addr), itob(id)); err != nil {
				return err
			}
			if err := tx.Bucket(bucketRefCodes).Put([]byte(code), itob(id)); err != nil {
				return err
			}
		}
		return nil
	})
}

func TestSetReferrer(t *testing.T) {
	s, _ := openTestStore(t)
	ref, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:1"), "Referrer", "")
	require.NoError(t, err)
	a, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:2"), "A", "")
	require.NoError(t, err)
	b, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:3"), "B", "")
	require.NoError(t, err)

	set, err := s.SetReferrer(context.Background(), a.ID, strings.ToUpper(ref.RefCode))
	require.NoError(t, err)
	assert.True(t, set)
	set, err = s.SetReferrer(context.Background(), a.ID, b.RefCode)
	require.NoError(t, err)
	assert.False(t, set, "the first referrer stays")
	set, err = s.SetReferrer(context.Background(), b.ID, b.RefCode)
	require.NoError(t, err)
	assert.False(t, set, "own code")
	set, err = s.SetReferrer(context.Background(), b.ID, "nosuch")
	require.NoError(t, err)
	assert.False(t, set, "unknown code")
	set, err = s.SetReferrer(context.Background(), b.ID, "")
	require.NoError(t, err)
	assert.False(t, set)
	_, err = s.SetReferrer(context.Background(), 9999, ref.RefCode)
	assert.ErrorIs(t, err, ErrNotFound)

	got, err := s.Contact(context.Background(), a.ID)
	require.NoError(t, err)
	assert.Equal(t, ref.ID, got.ReferredBy)
	got, err = s.Contact(context.Background(), ref.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, got.Referrals)
	got, err = s.Contact(context.Background(), b.ID)
	require.NoError(t, err)
	assert.Zero(t, got.ReferredBy)
	assert.Zero(t, got.Referrals)
}

// campaign creates a campaign with the code and target.
func campaign(t *testing.T, s *Store, code string, target int) *Campaign {
	t.Helper()
	c := &Campaign{Code: code, TitleAR: "حملة " + code, Kind: KindBoth, Target: target}
	require.NoError(t, s.CreateCampaign(context.Background(), c))
	return c
}

func TestForgetContactLeavesNoTrace(t *testing.T) {
	s, _ := openTestStore(t)
	const (
		addr1 = "telegram:7770001"
		addr2 = "whatsapp:970599777000"
		name  = "Distinctive Forgettable Name"
	)
	c1, c2 := campaign(t, s, "peace2026", 0), campaign(t, s, "unity", 0)
	ref, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:1"), "Referrer", "ar")
	require.NoError(t, err)
	p, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress(addr1), name, "ar")
	require.NoError(t, err)
	p, err = s.UpdateContact(context.Background(), p.ID, func(c *Contact) error {
		c.Addresses = append(c.Addresses, bot.MustParseAddress(addr2))
		c.Governorate = "hebron"
		return nil
	})
	require.NoError(t, err)
	_, err = s.SetReferrer(context.Background(), p.ID, ref.RefCode)
	require.NoError(t, err)
	brought, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:3"), "Brought", "en")
	require.NoError(t, err)
	_, err = s.SetReferrer(context.Background(), brought.ID, p.RefCode)
	require.NoError(t, err)
	for _, c := range []*Campaign{c1, c2} {
		_, err = s.AddPledge(context.Background(), Pledge{CampaignID: c.ID, ContactID: p.ID, Channel: "telegram", Governorate: "hebron", Lang: "ar", ReferredBy: ref.ID})
		require.NoError(t, err)
		_, err = s.AddPledge(context.Background(), Pledge{CampaignID: c.ID, ContactID: brought.ID, Channel: "telegram"})
		require.NoError(t, err)
	}
	_, err = s.AddSignup(context.Background(), Signup{CampaignID: c1.ID, ContactID: p.ID, Channel: "whatsapp", Governorate: "hebron"})
	require.NoError(t, err)
	_, err = s.AddSignup(context.Background(), Signup{CampaignID: c1.ID, ContactID: brought.ID})
	require.NoError(t, err)
	require.NoError(t, s.PutSession(context.Background(), p.ID, &Session{Flow: "register", Data: map[string]string{"name": name}}))

	require.NoError(t, s.ForgetContact(context.Background(), p.ID))

	counts, err := s.Counts(context.Background(), c1.ID)
	require.NoError(t, err)
	assert.Equal(t, Counts{Pledges: 2, Signups: 1}, counts)
	counts, err = s.Counts(context.Background(), c2.ID)
	require.NoError(t, err)
	assert.Equal(t, Counts{Pledges: 2}, counts)
	st, err := s.CampaignStats(context.Background(), c1.ID)
	require.NoError(t, err)
	assert.Equal(t, 2, st.Pledges)
	assert.Equal(t, 2, st.PledgesByGovernorate[""], "the anonymous pledge and one without a governorate")
	assert.Zero(t, st.PledgesByGovernorate["hebron"])

	_, err = s.Contact(context.Background(), p.ID)
	assert.ErrorIs(t, err, ErrNotFound)
	for _, a := range []string{addr1, addr2} {
		_, err = s.ContactByAddress(context.Background(), bot.MustParseAddress(a))
		assert.ErrorIs(t, err, ErrNotFound)
	}
	_, err = s.ContactByRefCode(context.Background(), p.RefCode)
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = s.Session(context.Background(), p.ID)
	assert.ErrorIs(t, err, ErrNotFound)
	pledges, err := s.ContactPledges(context.Background(), p.ID)
	require.NoError(t, err)
	assert.Empty(t, pledges)
	signups, err := s.ContactSignups(context.Background(), p.ID)
	require.NoError(t, err)
	assert.Empty(t, signups)
	got, err := s.Contact(context.Background(), brought.ID)
	require.NoError(t, err)
	assert.Equal(t, p.ID, got.ReferredBy, "others keep the number")

	// scan every key and value of every bucket
	idKey := itob(p.ID)
	scanned := 0
	require.NoError(t, s.DB().View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(bucket []byte, b *bbolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				scanned++
				for _, needle := range []string{addr1, addr2, "7770001", name, p.RefCode} {
					assert.NotContains(t, string(k), needle, "%s key", bucket)
					assert.NotContains(t, string(v), needle, "%s %x value", bucket, k)
				}
				switch string(bucket) {
				case "contacts", "sessions":
					assert.NotEqual(t, idKey, k, "%s key", bucket)
				case "addresses", "refcodes":
					assert.NotEqual(t, idKey, v, "%s %q value", bucket, k)
				case "pledges", "signups":
					assert.False(t, bytes.HasSuffix(k, idKey), "%s key %x", bucket, k)
					var rec struct {
						ContactID  uint64 `json:"contact_id"`
						ReferredBy uint64 `json:"referred_by"`
					}
					require.NoError(t, json.Unmarshal(v, &rec))
					assert.NotEqual(t, p.ID, rec.ContactID, "%s %x", bucket, k)
				}
				return nil
			})
		})
	}))
	assert.Greater(t, scanned, 10)

	assert.ErrorIs(t, s.ForgetContact(context.Background(), p.ID), ErrNotFound)
}

func TestLinkAddresses(t *testing.T) {
	s, clock := openTestStore(t)
	c1, c2, c3 := campaign(t, s, "one", 0), campaign(t, s, "two", 0), campaign(t, s, "three", 0)
	keep, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:10"), "Huda", "ar")
	require.NoError(t, err)
	clock.Add(time.Hour)
	merge, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("whatsapp:970599000010"), "", "")
	require.NoError(t, err)
	merge, err = s.UpdateContact(context.Background(), merge.ID, func(c *Contact) error {
		c.Consent, c.ConsentAt = true, clock.Now()
		c.Stopped = true
		c.Governorate = "gaza"
		c.Role = RoleCoordinator
		c.Referrals = 2
		return nil
	})
	require.NoError(t, err)
	brought, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:11"), "Brought", "")
	require.NoError(t, err)
	_, err = s.SetReferrer(context.Background(), brought.ID, merge.RefCode)
	require.NoError(t, err)

	// both pledged to c1; only merge to c2; only keep to c3; both signed up to c1
	for _, pl := range []Pledge{
		{CampaignID: c1.ID, ContactID: keep.ID}, {CampaignID: c1.ID, ContactID: merge.ID},
		{CampaignID: c2.ID, ContactID: merge.ID, Channel: "whatsapp"}, {CampaignID: c3.ID, ContactID: keep.ID},
	} {
		_, err := s.AddPledge(context.Background(), pl)
		require.NoError(t, err)
	}
	for _, su := range []Signup{{CampaignID: c1.ID, ContactID: keep.ID}, {CampaignID: c1.ID, ContactID: merge.ID}, {CampaignID: c2.ID, ContactID: merge.ID}} {
		_, err := s.AddSignup(context.Background(), su)
		require.NoError(t, err)
	}
	require.NoError(t, s.PutSession(context.Background(), merge.ID, &Session{Flow: "pledge"}))

	got, err := s.LinkAddresses(context.Background(), keep.ID, merge.ID)
	require.NoError(t, err)
	assert.Equal(t, keep.ID, got.ID)
	assert.Equal(t, addrList("telegram:10", "whatsapp:970599000010"), got.Addresses)
	assert.Equal(t, "Huda", got.Name)
	assert.Equal(t, "ar", got.Lang)
	assert.Equal(t, "gaza", got.Governorate)
	assert.True(t, got.Consent)
	assert.Equal(t, clock.Now(), got.ConsentAt)
	assert.True(t, got.Stopped)
	assert.Equal(t, RoleCoordinator, got.Role)
	assert.Equal(t, 3, got.Referrals)
	assert.Equal(t, keep.RefCode, got.RefCode)
	assert.Equal(t, keep.CreatedAt, got.CreatedAt)

	stored, err := s.Contact(context.Background(), keep.ID)
	require.NoError(t, err)
	assert.Equal(t, got, stored)
	_, err = s.Contact(context.Background(), merge.ID)
	assert.ErrorIs(t, err, ErrNotFound)
	byAddr, err := s.ContactByAddress(context.Background(), bot.MustParseAddress("whatsapp:970599000010"))
	require.NoError(t, err)
	assert.Equal(t, keep.ID, byAddr.ID)
	byCode, err := s.ContactByRefCode(context.Background(), merge.RefCode)
	require.NoError(t, err)
	assert.Equal(t, keep.ID, byCode.ID, "the merged person's share links still work")
	_, err = s.Session(context.Background(), merge.ID)
	assert.ErrorIs(t, err, ErrNotFound)

	for _, tc := range []struct {
		c    *Campaign
		want Counts
	}{{c1, Counts{Pledges: 1, Signups: 1}}, {c2, Counts{Pledges: 1, Signups: 1}}, {c3, Counts{Pledges: 1}}} {
		counts, err := s.Counts(context.Background(), tc.c.ID)
		require.NoError(t, err)
		assert.Equal(t, tc.want, counts, "campaign %s", tc.c.Code)
	}
	pledges, err := s.ContactPledges(context.Background(), keep.ID)
	require.NoError(t, err)
	require.Len(t, pledges, 3)
	assert.Equal(t, keep.ID, pledges[1].ContactID)
	assert.Equal(t, bot.WhatsApp, pledges[1].Channel)
	signups, err := s.ContactSignups(context.Background(), keep.ID)
	require.NoError(t, err)
	assert.Len(t, signups, 2)
	pledges, err = s.ContactPledges(context.Background(), merge.ID)
	require.NoError(t, err)
	assert.Empty(t, pledges)

	_, err = s.LinkAddresses(context.Background(), keep.ID, keep.ID)
	assert.Error(t, err)
	_, err = s.LinkAddresses(context.Background(), keep.ID, merge.ID)
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = s.LinkAddresses(context.Background(), 999, keep.ID)
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestLinkAddressesReferredEachOther(t *testing.T) {
	s, _ := openTestStore(t)
	a, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:1"), "", "")
	require.NoError(t, err)
	b, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("whatsapp:1"), "", "")
	require.NoError(t, err)
	_, err = s.SetReferrer(context.Background(), b.ID, a.RefCode)
	require.NoError(t, err)

	got, err := s.LinkAddresses(context.Background(), b.ID, a.ID)
	require.NoError(t, err)
	assert.Zero(t, got.ReferredBy)
	assert.Zero(t, got.Referrals)
}

func TestLinkAddressesKeepsOneIdentity(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	admin, _, err := s.EnsureContact(ctx, bot.MustParseAddress("telegram:1"), "Admin", "ar")
	require.NoError(t, err)
	second, _, err := s.EnsureContact(ctx, bot.MustParseAddress("whatsapp:970599000001"), "Admin phone", "ar")
	require.NoError(t, err)
	other, _, err := s.EnsureContact(ctx, bot.MustParseAddress("telegram:9"), "Other", "ar")
	require.NoError(t, err)
	b := &Broadcast{TextAR: "نص", Audience: Audience{Kind: AudienceEveryone}, CreatedBy: second.ID, ApprovedBy: second.ID, Status: BroadcastAwaitingApproval}
	require.NoError(t, s.CreateBroadcast(ctx, b))
	r := &Reminder{TextAR: "تذكير", Audience: Audience{Kind: AudienceEveryone}, At: time.Now().Add(time.Hour), CreatedBy: second.ID}
	require.NoError(t, s.CreateReminder(ctx, r))
	keepB := &Broadcast{TextAR: "آخر", Audience: Audience{Kind: AudienceEveryone}, CreatedBy: other.ID, Status: BroadcastAwaitingApproval}
	require.NoError(t, s.CreateBroadcast(ctx, keepB))

	_, err = s.LinkAddresses(ctx, admin.ID, second.ID)
	require.NoError(t, err)

	id, err := s.Identity(ctx, second.ID)
	require.NoError(t, err)
	assert.Equal(t, admin.ID, id, "the merged account is the same person")
	id, err = s.Identity(ctx, other.ID)
	require.NoError(t, err)
	assert.Equal(t, other.ID, id)
	got, err := s.Broadcast(ctx, b.ID)
	require.NoError(t, err)
	assert.Equal(t, admin.ID, got.CreatedBy)
	assert.Equal(t, admin.ID, got.ApprovedBy)
	gotR, err := s.Reminder(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, admin.ID, gotR.CreatedBy)
	untouched, err := s.Broadcast(ctx, keepB.ID)
	require.NoError(t, err)
	assert.Equal(t, other.ID, untouched.CreatedBy)

	// merging again carries the alias along: the oldest ID still names the person
	third, _, err := s.EnsureContact(ctx, bot.MustParseAddress("console:admin"), "", "")
	require.NoError(t, err)
	_, err = s.LinkAddresses(ctx, third.ID, admin.ID)
	require.NoError(t, err)
	for _, old := range []uint64{second.ID, admin.ID} {
		id, err := s.Identity(ctx, old)
		require.NoError(t, err)
		assert.Equal(t, third.ID, id)
	}
}
