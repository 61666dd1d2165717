package store

import (
	"context"
	"testing"
	"time"

	"mobilise/bot"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

// memberInstitution stores an approved institution.
func memberInstitution(t *testing.T, s *Store, nameEN string) *Institution {
	t.Helper()
	inst := &Institution{NameAR: "مؤسسة", NameEN: nameEN, Field: "youth", Status: InstitutionApproved}
	require.NoError(t, s.CreateInstitution(context.Background(), inst))
	inst, err := s.AssignInstitutionCode(context.Background(), inst.ID)
	require.NoError(t, err)
	return inst
}

// agreeing is a person who agreed to messages, in gov.
func agreeing(t *testing.T, s *Store, addr, gov string) *Contact {
	t.Helper()
	return person(t, s, []bot.Address{bot.MustParseAddress(addr)}, func(c *Contact) {
		c.Consent, c.Governorate = true, gov
	})
}

func TestSupporters(t *testing.T) {
	ctx := context.Background()
	s, clock := openTestStore(t)
	inst, other := memberInstitution(t, s, "Dialogue Centre"), memberInstitution(t, s, "Peace Forum")
	a, b := agreeing(t, s, "telegram:1", "nablus"), agreeing(t, s, "telegram:2", "gaza")

	added, err := s.AddSupporter(ctx, Support{InstitutionID: inst.ID, ContactID: a.ID, Via: ViaLink, Newcomer: true, Governorate: "nablus"}, false)
	require.NoError(t, err)
	assert.True(t, added)
	added, err = s.AddSupporter(ctx, Support{InstitutionID: inst.ID, ContactID: a.ID, Via: ViaPledge}, false)
	require.NoError(t, err)
	assert.False(t, added, "once on the list")
	sp, err := s.Supporter(ctx, inst.ID, a.ID)
	require.NoError(t, err)
	assert.Equal(t, ViaLink, sp.Via, "the first way in is kept")
	assert.Equal(t, clock.Now(), sp.At)
	_, err = s.AddSupporter(ctx, Support{InstitutionID: other.ID, ContactID: a.ID, Via: ViaPledge}, false)
	require.NoError(t, err)
	_, err = s.AddSupporter(ctx, Support{InstitutionID: inst.ID, ContactID: b.ID, Via: ViaSignup}, false)
	require.NoError(t, err)

	_, err = s.AddSupporter(ctx, Support{InstitutionID: 99, ContactID: a.ID}, false)
	assert.ErrorIs(t, err, ErrNotFound, "no such institution")
	_, err = s.AddSupporter(ctx, Support{InstitutionID: inst.ID, ContactID: 99}, false)
	assert.ErrorIs(t, err, ErrNotFound, "no such person")

	lists, err := s.ContactSupports(ctx, a.ID)
	require.NoError(t, err)
	require.Len(t, lists, 2)
	assert.Equal(t, []uint64{inst.ID, other.ID}, []uint64{lists[0].InstitutionID, lists[1].InstitutionID})

	// leaving one list leaves the other, and the coalition, alone
	clock.Add(time.Hour)
	left, err := s.LeaveSupporters(ctx, inst.ID, a.ID)
	require.NoError(t, err)
	assert.True(t, left)
	left, err = s.LeaveSupporters(ctx, inst.ID, a.ID)
	require.NoError(t, err)
	assert.False(t, left, "already off it")
	sp, err = s.Supporter(ctx, inst.ID, a.ID)
	require.NoError(t, err)
	assert.False(t, sp.Active())
	assert.Equal(t, clock.Now(), sp.Left)
	again, err := s.Contact(ctx, a.ID)
	require.NoError(t, err)
	assert.True(t, again.Consent)

	// a pledge does not put back someone who left; their own yes does
	added, err = s.AddSupporter(ctx, Support{InstitutionID: inst.ID, ContactID: a.ID, Via: ViaPledge}, false)
	require.NoError(t, err)
	assert.False(t, added)
	rs, err := s.Recipients(ctx, Audience{Kind: AudienceEveryone, Institution: inst.ID}, nil)
	require.NoError(t, err)
	assert.Equal(t, []uint64{b.ID}, recipientIDs(rs))
	added, err = s.AddSupporter(ctx, Support{InstitutionID: inst.ID, ContactID: a.ID, Via: ViaLink}, true)
	require.NoError(t, err)
	assert.True(t, added)
	sp, err = s.Supporter(ctx, inst.ID, a.ID)
	require.NoError(t, err)
	assert.True(t, sp.Active())

	var seen []uint64
	require.NoError(t, s.Supporters(ctx, inst.ID, func(sp *Support) error {
		seen = append(seen, sp.ContactID)
		return nil
	}))
	assert.Equal(t, []uint64{a.ID, b.ID}, seen)
}

func recipientIDs(rs []Recipient) []uint64 {
	out := []uint64{}
	for _, r := range rs {
		out = append(out, r.ContactID)
	}
	return out
}

func TestRecipientsOfAnInstitution(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t)
	inst, other := memberInstitution(t, s, "Dialogue Centre"), memberInstitution(t, s, "Peace Forum")
	c := campaign(t, s, "walk", 0)
	var ours []*Contact
	for i, gov := range []string{"nablus", "gaza", "nablus"} {
		p := agreeing(t, s, "telegram:"+string(rune('1'+i)), gov)
		_, err := s.AddSupporter(ctx, Support{InstitutionID: inst.ID, ContactID: p.ID, Via: ViaLink}, false)
		require.NoError(t, err)
		ours = append(ours, p)
	}
	theirs := agreeing(t, s, "telegram:9", "nablus")
	_, err := s.AddSupporter(ctx, Support{InstitutionID: other.ID, ContactID: theirs.ID, Via: ViaLink}, false)
	require.NoError(t, err)
	nobody := agreeing(t, s, "telegram:8", "nablus")
	stopped := person(t, s, []bot.Address{bot.MustParseAddress("telegram:7")}, func(c *Contact) { c.Consent, c.Stopped = true, true })
	_, err = s.AddSupporter(ctx, Support{InstitutionID: inst.ID, ContactID: stopped.ID, Via: ViaLink}, false)
	require.NoError(t, err)
	for _, p := range []*Contact{ours[0], theirs, nobody} {
		_, err = s.AddPledge(ctx, Pledge{CampaignID: c.ID, ContactID: p.ID})
		require.NoError(t, err)
	}

	for _, tc := range []struct {
		name string
		aud  Audience
		want []uint64
	}{
		{"all its supporters", Audience{Kind: AudienceEveryone, Institution: inst.ID}, []uint64{ours[0].ID, ours[1].ID, ours[2].ID}},
		{"its supporters in a governorate", Audience{Kind: AudienceGovernorate, Governorate: "nablus", Institution: inst.ID}, []uint64{ours[0].ID, ours[2].ID}},
		{"its supporters who pledged", Audience{Kind: AudiencePledgers, CampaignID: c.ID, Institution: inst.ID}, []uint64{ours[0].ID}},
		{"its supporters who did not", Audience{Kind: AudienceNotPledged, CampaignID: c.ID, Institution: inst.ID}, []uint64{ours[1].ID, ours[2].ID}},
		{"the other's", Audience{Kind: AudienceEveryone, Institution: other.ID}, []uint64{theirs.ID}},
		{"the whole coalition", Audience{Kind: AudienceGovernorate, Governorate: "nablus"}, []uint64{ours[0].ID, ours[2].ID, theirs.ID, nobody.ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := s.Recipients(ctx, tc.aud, nil)
			require.NoError(t, err)
			assert.Equal(t, tc.want, recipientIDs(rs))
		})
	}
}

func TestAffiliations(t *testing.T) {
	ctx := context.Background()
	s, clock := openTestStore(t)
	inst, other := memberInstitution(t, s, "Dialogue Centre"), memberInstitution(t, s, "Peace Forum")
	rep, coord := agreeing(t, s, "telegram:1", ""), agreeing(t, s, "telegram:2", "")

	c, err := s.UpdateAffiliations(ctx, rep.ID, func(c *Contact) error {
		c.Affiliations = append(c.Affiliations,
			Affiliation{InstitutionID: inst.ID, Role: InstitutionRepresentative, Since: clock.Now()},
			Affiliation{InstitutionID: inst.ID, Role: InstitutionCoordinator})
		c.Role, c.InstitutionID = RoleMember, inst.ID
		return nil
	})
	require.NoError(t, err)
	assert.Len(t, c.Affiliations, 1, "one role per institution")
	assert.Equal(t, InstitutionRepresentative, c.AffiliationWith(inst.ID))
	assert.Equal(t, RoleMember, c.Role)
	_, err = s.UpdateAffiliations(ctx, coord.ID, func(c *Contact) error {
		c.Affiliations = []Affiliation{{InstitutionID: inst.ID, Role: InstitutionCoordinator, By: rep.ID}, {InstitutionID: other.ID, Role: InstitutionCoordinator}}
		return nil
	})
	require.NoError(t, err)

	people, err := s.InstitutionPeople(ctx, inst.ID)
	require.NoError(t, err)
	require.Len(t, people, 2)
	assert.Equal(t, rep.ID, people[0].ContactID)
	assert.Equal(t, InstitutionRepresentative, people[0].Role)
	assert.Equal(t, coord.ID, people[1].ContactID)
	assert.Equal(t, rep.ID, people[1].By)

	// dropping a role drops its index entry
	_, err = s.UpdateAffiliations(ctx, coord.ID, func(c *Contact) error {
		c.Affiliations = c.Affiliations[1:]
		return nil
	})
	require.NoError(t, err)
	people, err = s.InstitutionPeople(ctx, inst.ID)
	require.NoError(t, err)
	assert.Len(t, people, 1)
	people, err = s.InstitutionPeople(ctx, other.ID)
	require.NoError(t, err)
	assert.Len(t, people, 1)

	_, err = s.UpdateAffiliations(ctx, 99, func(*Contact) error { return nil })
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestForgetAndLinkCarryInstitutionLinks(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t)
	inst, other := memberInstitution(t, s, "Dialogue Centre"), memberInstitution(t, s, "Peace Forum")
	c := campaign(t, s, "walk", 0)
	keep, merge := agreeing(t, s, "telegram:1", ""), agreeing(t, s, "whatsapp:970599000001", "")
	_, err := s.UpdateAffiliations(ctx, keep.ID, func(c *Contact) error {
		c.Affiliations = []Affiliation{{InstitutionID: inst.ID, Role: InstitutionCoordinator}}
		return nil
	})
	require.NoError(t, err)
	_, err = s.UpdateAffiliations(ctx, merge.ID, func(c *Contact) error {
		c.Affiliations = []Affiliation{{InstitutionID: inst.ID, Role: InstitutionRepresentative}, {InstitutionID: other.ID, Role: InstitutionCoordinator}}
		return nil
	})
	require.NoError(t, err)
	_, err = s.AddSupporter(ctx, Support{InstitutionID: inst.ID, ContactID: keep.ID, Via: ViaLink}, false)
	require.NoError(t, err)
	_, err = s.LeaveSupporters(ctx, inst.ID, keep.ID)
	require.NoError(t, err)
	_, err = s.AddSupporter(ctx, Support{InstitutionID: inst.ID, ContactID: merge.ID, Via: ViaPledge}, false)
	require.NoError(t, err)
	_, err = s.AddSupporter(ctx, Support{InstitutionID: other.ID, ContactID: merge.ID, Via: ViaLink}, false)
	require.NoError(t, err)
	_, err = s.AddPledge(ctx, Pledge{CampaignID: c.ID, ContactID: merge.ID, Institution: inst.ID})
	require.NoError(t, err)

	got, err := s.LinkAddresses(ctx, keep.ID, merge.ID)
	require.NoError(t, err)
	assert.Equal(t, InstitutionRepresentative, got.AffiliationWith(inst.ID), "the higher role wins")
	assert.Equal(t, InstitutionCoordinator, got.AffiliationWith(other.ID))
	lists, err := s.ContactSupports(ctx, keep.ID)
	require.NoError(t, err)
	require.Len(t, lists, 2)
	assert.True(t, lists[0].Active(), "on the list if either account was")
	assert.Equal(t, keep.ID, lists[0].ContactID)
	lists, err = s.ContactSupports(ctx, merge.ID)
	require.NoError(t, err)
	assert.Empty(t, lists)
	people, err := s.InstitutionPeople(ctx, other.ID)
	require.NoError(t, err)
	require.Len(t, people, 1)
	assert.Equal(t, keep.ID, people[0].ContactID)

	require.NoError(t, s.ForgetContact(ctx, keep.ID))
	for _, id := range []uint64{inst.ID, other.ID} {
		people, err := s.InstitutionPeople(ctx, id)
		require.NoError(t, err)
		assert.Empty(t, people)
		n := 0
		require.NoError(t, s.Supporters(ctx, id, func(*Support) error { n++; return nil }))
		assert.Zero(t, n)
	}
	var credited []uint64
	require.NoError(t, s.Pledges(ctx, c.ID, func(p *Pledge) error {
		credited = append(credited, p.Institution)
		return nil
	}))
	assert.Equal(t, []uint64{inst.ID}, credited, "the anonymous pledge keeps its credit")
}

func TestInstitutionCodes(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t)
	a := memberInstitution(t, s, "Dialogue Centre")
	assert.Equal(t, "dialoguecentre", a.Code)
	b := memberInstitution(t, s, "Dialogue Centre")
	assert.Equal(t, "org2", b.Code, "a name taken falls back to the number")
	c := memberInstitution(t, s, "")
	assert.Equal(t, "org3", c.Code)
	again, err := s.AssignInstitutionCode(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, "dialoguecentre", again.Code, "a code once given stays")

	got, err := s.InstitutionByCode(ctx, "DialogueCentre")
	require.NoError(t, err)
	assert.Equal(t, a.ID, got.ID)
	_, err = s.InstitutionByCode(ctx, "")
	assert.ErrorIs(t, err, ErrNotFound)

	_, err = s.UpdateInstitution(ctx, b.ID, func(i *Institution) error { i.Code = "dialoguecentre"; return nil })
	assert.ErrorIs(t, err, ErrCodeTaken)
	_, err = s.UpdateInstitution(ctx, b.ID, func(i *Institution) error { i.Code = "Salam"; return nil })
	require.NoError(t, err)
	got, err = s.InstitutionByCode(ctx, "salam")
	require.NoError(t, err)
	assert.Equal(t, b.ID, got.ID)
	_, err = s.InstitutionByCode(ctx, "org2")
	assert.ErrorIs(t, err, ErrNotFound, "the old code is free again")

	require.NoError(t, s.DeleteInstitution(ctx, b.ID))
	_, err = s.InstitutionByCode(ctx, "salam")
	assert.ErrorIs(t, err, ErrNotFound)
}

// BenchmarkRecipientsOfAnInstitution100k selects one institution's 5,000
// supporters among 100,000 contacts: a prefix scan of its list, not a pass
// over everyone.
func BenchmarkRecipientsOfAnInstitution100k(b *testing.B) {
	s, err := Open(b.TempDir() + "/bench.db")
	require.NoError(b, err)
	b.Cleanup(func() { require.NoError(b, s.Close()) })
	bulkAudience(b, s, 100_000)
	inst := &Institution{NameAR: "مؤسسة", Status: InstitutionApproved}
	require.NoError(b, s.CreateInstitution(context.Background(), inst))
	require.NoError(b, s.DB().Update(func(tx *bbolt.Tx) error {
		for id := uint64(1); id <= 100_000; id += 20 {
			if err := putJSON(tx.Bucket(bucketSupporters), pairKey(inst.ID, id), Support{InstitutionID: inst.ID, ContactID: id, Via: ViaLink}); err != nil {
				return err
			}
			if err := tx.Bucket(bucketSupportedBy).Put(pairKey(id, inst.ID), nil); err != nil {
				return err
			}
		}
		return nil
	}))
	b.ResetTimer()
	for b.Loop() {
		got, err := s.Recipients(context.Background(), Audience{Kind: AudienceEveryone, Institution: inst.ID}, nil)
		require.NoError(b, err)
		require.Len(b, got, 5_000, "the stopped ones (every tenth) are none of them")
	}
}
