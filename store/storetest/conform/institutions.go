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

// InstitutionsBackend is a Backend with member institutions, the people who
// act for them and their supporters' lists.
type InstitutionsBackend interface {
	Backend

	CreateInstitution(ctx context.Context, inst *store.Institution) error
	Institution(ctx context.Context, id uint64) (*store.Institution, error)
	Institutions(ctx context.Context, status store.InstitutionStatus) ([]store.Institution, error)
	UpdateInstitution(ctx context.Context, id uint64, fn func(*store.Institution) error) (*store.Institution, error)
	DeleteInstitution(ctx context.Context, id uint64) error
	InstitutionByCode(ctx context.Context, code string) (*store.Institution, error)
	AssignInstitutionCode(ctx context.Context, id uint64) (*store.Institution, error)
	UpdateAffiliations(ctx context.Context, contactID uint64, fn func(*store.Contact) error) (*store.Contact, error)
	InstitutionPeople(ctx context.Context, institutionID uint64) ([]store.Affiliate, error)

	AddSupporter(ctx context.Context, sp store.Support, rejoin bool) (bool, error)
	LeaveSupporters(ctx context.Context, institutionID, contactID uint64) (bool, error)
	Supporter(ctx context.Context, institutionID, contactID uint64) (*store.Support, error)
	ContactSupports(ctx context.Context, contactID uint64) ([]store.Support, error)
	Supporters(ctx context.Context, institutionID uint64, fn func(*store.Support) error) error
}

// RunInstitutions runs the tests of institutions, their people and their
// supporters, each on a new, empty backend from open.
func RunInstitutions(t *testing.T, open func(t *testing.T) InstitutionsBackend) {
	t.Run("Institutions", func(t *testing.T) { testInstitutions(t, open(t)) })
	t.Run("InstitutionCodes", func(t *testing.T) { testInstitutionCodes(t, open(t)) })
	t.Run("ConcurrentInstitutionCodes", func(t *testing.T) { testConcurrentCodes(t, open(t)) })
	t.Run("Affiliations", func(t *testing.T) { testAffiliations(t, open(t)) })
	t.Run("Supporters", func(t *testing.T) { testSupporters(t, open(t)) })
	t.Run("ConcurrentSupporters", func(t *testing.T) { testConcurrentSupporters(t, open(t)) })
	t.Run("LongSupportersList", func(t *testing.T) { testLongSupportersList(t, open(t)) })
	t.Run("SupporterAudiences", func(t *testing.T) { testSupporterAudiences(t, open(t)) })
}

// member stores an approved institution with its share code.
func member(t *testing.T, b InstitutionsBackend, nameEN string) *store.Institution {
	t.Helper()
	inst := &store.Institution{NameAR: "مؤسسة", NameEN: nameEN, Field: "youth", Status: store.InstitutionApproved}
	require.NoError(t, b.CreateInstitution(ctx, inst))
	inst, err := b.AssignInstitutionCode(ctx, inst.ID)
	require.NoError(t, err)
	return inst
}

func testInstitutions(t *testing.T, b InstitutionsBackend) {
	a := &store.Institution{NameAR: "جمعية الأمل", Field: "youth", Governorates: []string{"nablus"}, ContactPerson: "Rami", ApplicantID: 3,
		Listing: store.Listing{Listed: true, AboutAR: "شباب"}}
	require.NoError(t, b.CreateInstitution(ctx, a))
	require.NotZero(t, a.ID)
	require.Equal(t, store.InstitutionPending, a.Status, "an application starts pending")
	require.False(t, a.CreatedAt.IsZero())
	at := time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC)
	c := &store.Institution{NameAR: "مركز السلام", Status: store.InstitutionApproved, CreatedAt: at}
	require.NoError(t, b.CreateInstitution(ctx, c))
	require.Greater(t, c.ID, a.ID)
	require.True(t, c.CreatedAt.Equal(at))

	got, err := b.Institution(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, a.NameAR, got.NameAR)
	require.Equal(t, a.Governorates, got.Governorates)
	require.Equal(t, a.Listing, got.Listing)
	require.True(t, a.CreatedAt.Equal(got.CreatedAt))
	_, err = b.Institution(ctx, c.ID+100)
	require.ErrorIs(t, err, store.ErrNotFound)

	listed := func(status store.InstitutionStatus) []uint64 {
		t.Helper()
		all, err := b.Institutions(ctx, status)
		require.NoError(t, err)
		out := []uint64{}
		for _, inst := range all {
			out = append(out, inst.ID)
		}
		return out
	}
	require.Equal(t, []uint64{a.ID, c.ID}, listed(""))
	require.Equal(t, []uint64{a.ID}, listed(store.InstitutionPending))
	require.Equal(t, []uint64{c.ID}, listed(store.InstitutionApproved))
	require.Equal(t, []uint64{}, listed(store.InstitutionRejected))

	decided := time.Date(2026, 2, 2, 8, 0, 0, 0, time.UTC)
	got, err = b.UpdateInstitution(ctx, a.ID, func(inst *store.Institution) error {
		inst.ID = 77
		inst.Status, inst.DecidedBy, inst.DecidedAt = store.InstitutionApproved, 1, decided
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, a.ID, got.ID, "the ID stays")
	require.Equal(t, []uint64{a.ID, c.ID}, listed(store.InstitutionApproved), "a change of status moves it between lists")
	require.Equal(t, []uint64{}, listed(store.InstitutionPending))
	got, err = b.Institution(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, uint64(1), got.DecidedBy)
	require.True(t, got.DecidedAt.Equal(decided))

	boom := errors.New("boom")
	_, err = b.UpdateInstitution(ctx, a.ID, func(inst *store.Institution) error {
		inst.NameAR = "changed"
		return boom
	})
	require.ErrorIs(t, err, boom)
	got, err = b.Institution(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, "جمعية الأمل", got.NameAR, "fn's error writes nothing")
	_, err = b.UpdateInstitution(ctx, c.ID+100, func(*store.Institution) error { return nil })
	require.ErrorIs(t, err, store.ErrNotFound)

	require.NoError(t, b.DeleteInstitution(ctx, a.ID))
	_, err = b.Institution(ctx, a.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.Equal(t, []uint64{c.ID}, listed(""))
	require.ErrorIs(t, b.DeleteInstitution(ctx, a.ID), store.ErrNotFound)

	// a unit of work that fails keeps no institution
	err = b.InTx(ctx, func(ctx context.Context) error {
		if err := b.CreateInstitution(ctx, &store.Institution{NameAR: "لن تبقى"}); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.Equal(t, []uint64{c.ID}, listed(""))
}

func testInstitutionCodes(t *testing.T, b InstitutionsBackend) {
	a := member(t, b, "Dialogue Centre")
	require.Equal(t, "dialoguecentre", a.Code, "the English name's letters")
	second := member(t, b, "Dialogue Centre")
	require.Equal(t, fmt.Sprintf("org%d", second.ID), second.Code, "a name taken falls back to the number")
	unnamed := member(t, b, "")
	require.Equal(t, fmt.Sprintf("org%d", unnamed.ID), unnamed.Code)
	short := member(t, b, "A-1")
	require.Equal(t, fmt.Sprintf("org%d", short.ID), short.Code, "fewer than 3 letters fall back to the number")
	long := member(t, b, "The Palestinian Centre for Dialogue, Ramallah")
	require.Equal(t, "thepalestiniancentre", long.Code, "at most 20 characters")
	arabic := member(t, b, "مركز 12 Salam")
	require.Equal(t, "12salam", arabic.Code, "Latin letters and digits only")

	again, err := b.AssignInstitutionCode(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, "dialoguecentre", again.Code, "a code once given stays")
	_, err = b.AssignInstitutionCode(ctx, long.ID+100)
	require.ErrorIs(t, err, store.ErrNotFound)

	got, err := b.InstitutionByCode(ctx, " DialogueCentre ")
	require.NoError(t, err)
	require.Equal(t, a.ID, got.ID, "a code is found in any case")
	_, err = b.InstitutionByCode(ctx, "")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = b.InstitutionByCode(ctx, "nobody")
	require.ErrorIs(t, err, store.ErrNotFound)

	_, err = b.UpdateInstitution(ctx, second.ID, func(i *store.Institution) error { i.Code = "DialogueCentre"; return nil })
	require.ErrorIs(t, err, store.ErrCodeTaken, "another institution's code, in any case")
	got, err = b.Institution(ctx, second.ID)
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("org%d", second.ID), got.Code, "a refused code writes nothing")
	changed, err := b.UpdateInstitution(ctx, second.ID, func(i *store.Institution) error { i.Code = "Salam"; return nil })
	require.NoError(t, err)
	require.Equal(t, "salam", changed.Code, "codes are lower-cased")
	got, err = b.InstitutionByCode(ctx, "SALAM")
	require.NoError(t, err)
	require.Equal(t, second.ID, got.ID)
	_, err = b.InstitutionByCode(ctx, fmt.Sprintf("org%d", second.ID))
	require.ErrorIs(t, err, store.ErrNotFound, "the old code is free again")
	_, err = b.UpdateInstitution(ctx, unnamed.ID, func(i *store.Institution) error { i.Code = fmt.Sprintf("org%d", second.ID); return nil })
	require.NoError(t, err, "a code given up can be taken")
	_, err = b.UpdateInstitution(ctx, second.ID, func(i *store.Institution) error { i.Code = "salam"; i.NameAR = "سلام"; return nil })
	require.NoError(t, err, "one's own code is no conflict")

	// a code given up by clearing it, and one freed by deleting its institution
	_, err = b.UpdateInstitution(ctx, a.ID, func(i *store.Institution) error { i.Code = ""; return nil })
	require.NoError(t, err)
	_, err = b.InstitutionByCode(ctx, "dialoguecentre")
	require.ErrorIs(t, err, store.ErrNotFound)
	third := member(t, b, "Dialogue Centre")
	require.Equal(t, "dialoguecentre", third.Code, "a name's code freed is given again")
	require.NoError(t, b.DeleteInstitution(ctx, second.ID))
	_, err = b.InstitutionByCode(ctx, "salam")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = b.UpdateInstitution(ctx, third.ID, func(i *store.Institution) error { i.Code = "salam"; return nil })
	require.NoError(t, err)

	// a code changed in a unit of work that fails stays as it was
	boom := errors.New("boom")
	err = b.InTx(ctx, func(ctx context.Context) error {
		if _, err := b.UpdateInstitution(ctx, third.ID, func(i *store.Institution) error { i.Code = "other"; return nil }); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	got, err = b.InstitutionByCode(ctx, "salam")
	require.NoError(t, err)
	require.Equal(t, third.ID, got.ID)
	_, err = b.InstitutionByCode(ctx, "other")
	require.ErrorIs(t, err, store.ErrNotFound)
}

// testConcurrentCodes approves institutions of one name at once: one gets
// the name's code, the others their numbers, and no two share a code.
func testConcurrentCodes(t *testing.T, b InstitutionsBackend) {
	const n = 12
	var ids []uint64
	for range n {
		inst := &store.Institution{NameAR: "مؤسسة", NameEN: "Peace Forum", Status: store.InstitutionApproved}
		require.NoError(t, b.CreateInstitution(ctx, inst))
		ids = append(ids, inst.ID)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for _, id := range ids {
		for range 2 { // each assigned twice at once: the second keeps the first's code
			wg.Go(func() {
				if _, err := b.AssignInstitutionCode(ctx, id); err != nil {
					errs <- err
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	seen := map[string]uint64{}
	named := 0
	for _, id := range ids {
		got, err := b.Institution(ctx, id)
		require.NoError(t, err)
		require.NotEmpty(t, got.Code)
		require.NotContains(t, seen, got.Code, "code %q given twice", got.Code)
		seen[got.Code] = id
		if got.Code == "peaceforum" {
			named++
		} else {
			require.Equal(t, fmt.Sprintf("org%d", id), got.Code)
		}
		byCode, err := b.InstitutionByCode(ctx, got.Code)
		require.NoError(t, err)
		require.Equal(t, id, byCode.ID)
	}
	require.Equal(t, 1, named, "one institution has the name's code")
}

func testAffiliations(t *testing.T, b InstitutionsBackend) {
	inst, other := member(t, b, "Dialogue Centre"), member(t, b, "Peace Forum")
	rep := person(t, b, "telegram:1", consenting("", "ar"))
	coord := person(t, b, "telegram:2", consenting("", "ar"))
	since := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

	c, err := b.UpdateAffiliations(ctx, rep.ID, func(c *store.Contact) error {
		c.Affiliations = append(c.Affiliations,
			store.Affiliation{InstitutionID: inst.ID, Role: store.InstitutionRepresentative, Since: since},
			store.Affiliation{InstitutionID: inst.ID, Role: store.InstitutionCoordinator},
			store.Affiliation{Role: store.InstitutionCoordinator})
		c.Role, c.InstitutionID = store.RoleMember, inst.ID
		return nil
	})
	require.NoError(t, err)
	require.Len(t, c.Affiliations, 1, "one role per institution, and none without one")
	require.Equal(t, store.InstitutionRepresentative, c.AffiliationWith(inst.ID))
	require.Equal(t, store.RoleMember, c.Role)
	got, err := b.Contact(ctx, rep.ID)
	require.NoError(t, err)
	require.Equal(t, c.Affiliations, got.Affiliations)
	require.Equal(t, inst.ID, got.InstitutionID)
	_, err = b.UpdateAffiliations(ctx, coord.ID, func(c *store.Contact) error {
		c.Affiliations = []store.Affiliation{
			{InstitutionID: other.ID, Role: store.InstitutionCoordinator},
			{InstitutionID: inst.ID, Role: store.InstitutionCoordinator, By: rep.ID, Since: since},
		}
		return nil
	})
	require.NoError(t, err)

	people, err := b.InstitutionPeople(ctx, inst.ID)
	require.NoError(t, err)
	require.Len(t, people, 2)
	require.Equal(t, rep.ID, people[0].ContactID, "in contact ID order")
	require.Equal(t, store.InstitutionRepresentative, people[0].Role)
	require.True(t, people[0].Since.Equal(since))
	require.Equal(t, coord.ID, people[1].ContactID)
	require.Equal(t, store.InstitutionCoordinator, people[1].Role)
	require.Equal(t, rep.ID, people[1].By)

	// a role changed in place changes its entry
	_, err = b.UpdateAffiliations(ctx, coord.ID, func(c *store.Contact) error {
		for i := range c.Affiliations {
			if c.Affiliations[i].InstitutionID == inst.ID {
				c.Affiliations[i].Role = store.InstitutionRepresentative
			}
		}
		return nil
	})
	require.NoError(t, err)
	people, err = b.InstitutionPeople(ctx, inst.ID)
	require.NoError(t, err)
	require.Equal(t, store.InstitutionRepresentative, people[1].Role)

	// fn's error, and a unit of work that fails, change neither the contact nor the index
	boom := errors.New("boom")
	_, err = b.UpdateAffiliations(ctx, coord.ID, func(c *store.Contact) error {
		c.Affiliations = nil
		return boom
	})
	require.ErrorIs(t, err, boom)
	err = b.InTx(ctx, func(ctx context.Context) error {
		if _, err := b.UpdateAffiliations(ctx, coord.ID, func(c *store.Contact) error { c.Affiliations = nil; return nil }); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	people, err = b.InstitutionPeople(ctx, other.ID)
	require.NoError(t, err)
	require.Len(t, people, 1)
	got, err = b.Contact(ctx, coord.ID)
	require.NoError(t, err)
	require.Len(t, got.Affiliations, 2)

	// dropping a role drops its entry, and only that one
	_, err = b.UpdateAffiliations(ctx, coord.ID, func(c *store.Contact) error {
		c.Affiliations = c.Affiliations[:1]
		return nil
	})
	require.NoError(t, err)
	people, err = b.InstitutionPeople(ctx, inst.ID)
	require.NoError(t, err)
	require.Len(t, people, 1)
	require.Equal(t, rep.ID, people[0].ContactID)
	people, err = b.InstitutionPeople(ctx, other.ID)
	require.NoError(t, err)
	require.Len(t, people, 1)
	require.Equal(t, coord.ID, people[0].ContactID)
	people, err = b.InstitutionPeople(ctx, other.ID+100)
	require.NoError(t, err)
	require.Empty(t, people)

	_, err = b.UpdateAffiliations(ctx, coord.ID+100, func(*store.Contact) error { return nil })
	require.ErrorIs(t, err, store.ErrNotFound)
	// an affiliation's change is an UpdateContact: another contact's address is refused, and nothing moves
	_, err = b.UpdateAffiliations(ctx, coord.ID, func(c *store.Contact) error {
		c.Affiliations = nil
		c.Addresses = append(c.Addresses, addr("telegram:1"))
		return nil
	})
	require.ErrorIs(t, err, store.ErrAddressTaken)
	people, err = b.InstitutionPeople(ctx, other.ID)
	require.NoError(t, err)
	require.Len(t, people, 1)
}

func testSupporters(t *testing.T, b InstitutionsBackend) {
	inst, other := member(t, b, "Dialogue Centre"), member(t, b, "Peace Forum")
	a := person(t, b, "telegram:1", consenting("nablus", "ar"))
	c := person(t, b, "telegram:2", consenting("gaza", "ar"))

	before := time.Now().Add(-time.Minute)
	added, err := b.AddSupporter(ctx, store.Support{InstitutionID: inst.ID, ContactID: a.ID, Via: store.ViaLink, Newcomer: true, Governorate: "nablus"}, false)
	require.NoError(t, err)
	require.True(t, added)
	added, err = b.AddSupporter(ctx, store.Support{InstitutionID: inst.ID, ContactID: a.ID, Via: store.ViaPledge}, false)
	require.NoError(t, err)
	require.False(t, added, "once on the list")
	added, err = b.AddSupporter(ctx, store.Support{InstitutionID: inst.ID, ContactID: a.ID, Via: store.ViaPoll}, true)
	require.NoError(t, err)
	require.False(t, added, "rejoining a list one is on changes nothing")
	sp, err := b.Supporter(ctx, inst.ID, a.ID)
	require.NoError(t, err)
	require.Equal(t, store.ViaLink, sp.Via, "the first way in is kept")
	require.True(t, sp.Newcomer)
	require.Equal(t, "nablus", sp.Governorate)
	require.Equal(t, inst.ID, sp.InstitutionID)
	require.Equal(t, a.ID, sp.ContactID)
	require.True(t, sp.At.After(before), "a zero At is now")
	require.True(t, sp.Active())
	at := time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC)
	_, err = b.AddSupporter(ctx, store.Support{InstitutionID: other.ID, ContactID: a.ID, Via: store.ViaPledge, At: at}, false)
	require.NoError(t, err)
	_, err = b.AddSupporter(ctx, store.Support{InstitutionID: inst.ID, ContactID: c.ID, Via: store.ViaSignup}, false)
	require.NoError(t, err)
	sp, err = b.Supporter(ctx, other.ID, a.ID)
	require.NoError(t, err)
	require.True(t, sp.At.Equal(at))

	_, err = b.AddSupporter(ctx, store.Support{InstitutionID: other.ID + 100, ContactID: a.ID}, false)
	require.ErrorIs(t, err, store.ErrNotFound, "no such institution")
	_, err = b.AddSupporter(ctx, store.Support{InstitutionID: inst.ID, ContactID: c.ID + 100}, false)
	require.ErrorIs(t, err, store.ErrNotFound, "no such person")
	_, err = b.AddSupporter(ctx, store.Support{InstitutionID: inst.ID, ContactID: 0}, false)
	require.ErrorIs(t, err, store.ErrNotFound, "no person")
	_, err = b.Supporter(ctx, other.ID, c.ID)
	require.ErrorIs(t, err, store.ErrNotFound)

	lists, err := b.ContactSupports(ctx, a.ID)
	require.NoError(t, err)
	require.Len(t, lists, 2)
	require.Equal(t, []uint64{inst.ID, other.ID}, []uint64{lists[0].InstitutionID, lists[1].InstitutionID}, "in institution ID order")
	lists, err = b.ContactSupports(ctx, c.ID+100)
	require.NoError(t, err)
	require.Empty(t, lists)

	// leaving one list leaves the other, and the coalition, alone
	left, err := b.LeaveSupporters(ctx, inst.ID, a.ID)
	require.NoError(t, err)
	require.True(t, left)
	left, err = b.LeaveSupporters(ctx, inst.ID, a.ID)
	require.NoError(t, err)
	require.False(t, left, "already off it")
	left, err = b.LeaveSupporters(ctx, other.ID, c.ID)
	require.NoError(t, err)
	require.False(t, left, "never on it")
	sp, err = b.Supporter(ctx, inst.ID, a.ID)
	require.NoError(t, err)
	require.False(t, sp.Active())
	require.False(t, sp.Left.IsZero())
	require.Equal(t, store.ViaLink, sp.Via, "the record stays")
	sp, err = b.Supporter(ctx, other.ID, a.ID)
	require.NoError(t, err)
	require.True(t, sp.Active())
	again, err := b.Contact(ctx, a.ID)
	require.NoError(t, err)
	require.True(t, again.Consent)
	lists, err = b.ContactSupports(ctx, a.ID)
	require.NoError(t, err)
	require.Len(t, lists, 2, "a list left is still listed")

	// a pledge does not put back someone who left; their own yes does
	added, err = b.AddSupporter(ctx, store.Support{InstitutionID: inst.ID, ContactID: a.ID, Via: store.ViaPledge}, false)
	require.NoError(t, err)
	require.False(t, added)
	sp, err = b.Supporter(ctx, inst.ID, a.ID)
	require.NoError(t, err)
	require.False(t, sp.Active())
	added, err = b.AddSupporter(ctx, store.Support{InstitutionID: inst.ID, ContactID: a.ID, Via: store.ViaLink, Governorate: "hebron"}, true)
	require.NoError(t, err)
	require.True(t, added)
	sp, err = b.Supporter(ctx, inst.ID, a.ID)
	require.NoError(t, err)
	require.True(t, sp.Active())
	require.Equal(t, "hebron", sp.Governorate, "rejoining writes the new record")
	require.False(t, sp.Newcomer)

	var seen []uint64
	require.NoError(t, b.Supporters(ctx, inst.ID, func(sp *store.Support) error {
		seen = append(seen, sp.ContactID)
		return nil
	}))
	require.Equal(t, []uint64{a.ID, c.ID}, seen, "in contact ID order")
	stop := errors.New("enough")
	seen = nil
	err = b.Supporters(ctx, inst.ID, func(sp *store.Support) error {
		seen = append(seen, sp.ContactID)
		return stop
	})
	require.Equal(t, stop, err, "fn's error as it is")
	require.Equal(t, []uint64{a.ID}, seen)
	require.NoError(t, b.Supporters(ctx, other.ID+100, func(*store.Support) error { return stop }), "an empty list calls nothing")

	// a unit of work that fails adds no one and takes no one off
	boom := errors.New("boom")
	err = b.InTx(ctx, func(ctx context.Context) error {
		if _, err := b.AddSupporter(ctx, store.Support{InstitutionID: other.ID, ContactID: c.ID, Via: store.ViaLink}, false); err != nil {
			return err
		}
		if _, err := b.LeaveSupporters(ctx, other.ID, a.ID); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	_, err = b.Supporter(ctx, other.ID, c.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	sp, err = b.Supporter(ctx, other.ID, a.ID)
	require.NoError(t, err)
	require.True(t, sp.Active())
}

// testConcurrentSupporters adds people to a list from many goroutines at
// once: each person is newly added once, whoever wins, and rejoins after
// leaving count once too.
func testConcurrentSupporters(t *testing.T, b InstitutionsBackend) {
	inst := member(t, b, "Dialogue Centre")
	const people, tries = 10, 8
	var ids []uint64
	for i := range people {
		ids = append(ids, person(t, b, fmt.Sprintf("telegram:%d", 100+i), consenting("gaza", "ar")).ID)
	}
	race := func(rejoin bool) []int {
		t.Helper()
		wins := make([]int, people)
		var mu sync.Mutex
		var wg sync.WaitGroup
		errs := make(chan error, people*tries)
		for i, id := range ids {
			for range tries {
				wg.Go(func() {
					added, err := b.AddSupporter(ctx, store.Support{InstitutionID: inst.ID, ContactID: id, Via: store.ViaLink}, rejoin)
					if err != nil {
						errs <- err
						return
					}
					if added {
						mu.Lock()
						wins[i]++
						mu.Unlock()
					}
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		return wins
	}
	for i, n := range race(false) {
		require.Equal(t, 1, n, "person %d added once", i)
	}
	for _, id := range ids {
		left, err := b.LeaveSupporters(ctx, inst.ID, id)
		require.NoError(t, err)
		require.True(t, left)
	}
	for i, n := range race(true) {
		require.Equal(t, 1, n, "person %d rejoined once", i)
	}
	count, err := b.CountAudience(ctx, store.Audience{Kind: store.AudienceEveryone, Institution: inst.ID}, nil)
	require.NoError(t, err)
	require.Equal(t, people, count.Total)
}

func testSupporterAudiences(t *testing.T, b InstitutionsBackend) {
	inst, other := member(t, b, "Dialogue Centre"), member(t, b, "Peace Forum")
	camp := campaign(t, b, "walk", 0)
	var ours []*store.Contact
	for i, p := range []struct{ gov, lang, addr string }{
		{"nablus", "ar", "telegram:1"}, {"gaza", "en", "whatsapp:9702"}, {"nablus", "ar", "telegram:3"},
	} {
		c := person(t, b, p.addr, consenting(p.gov, p.lang))
		if i == 2 {
			var err error
			c, err = b.UpdateContact(ctx, c.ID, func(c *store.Contact) error { c.InstitutionID = inst.ID; return nil })
			require.NoError(t, err)
		}
		_, err := b.AddSupporter(ctx, store.Support{InstitutionID: inst.ID, ContactID: c.ID, Via: store.ViaLink}, false)
		require.NoError(t, err)
		ours = append(ours, c)
	}
	theirs := person(t, b, "telegram:9", consenting("nablus", "ar"))
	_, err := b.AddSupporter(ctx, store.Support{InstitutionID: other.ID, ContactID: theirs.ID, Via: store.ViaLink}, false)
	require.NoError(t, err)
	nobody := person(t, b, "telegram:8", consenting("nablus", "ar"))
	stopped := person(t, b, "telegram:7", func(c *store.Contact) { c.Consent, c.Stopped, c.Governorate = true, true, "nablus" })
	_, err = b.AddSupporter(ctx, store.Support{InstitutionID: inst.ID, ContactID: stopped.ID, Via: store.ViaLink}, false)
	require.NoError(t, err)
	unconsented := person(t, b, "telegram:6", nil)
	_, err = b.AddSupporter(ctx, store.Support{InstitutionID: inst.ID, ContactID: unconsented.ID, Via: store.ViaLink}, false)
	require.NoError(t, err)
	for _, p := range []*store.Contact{ours[0], ours[1], theirs, nobody, stopped} {
		_, err = b.AddPledge(ctx, pledge(camp.ID, p.ID))
		require.NoError(t, err)
	}

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
	check(store.Audience{Kind: store.AudienceEveryone, Institution: inst.ID}, map[bot.ChannelName]int{tg: 2, wa: 1})
	listed(t, b, store.Audience{Kind: store.AudienceEveryone, Institution: inst.ID}, ours[0].ID, ours[1].ID, ours[2].ID)
	listed(t, b, store.Audience{Kind: store.AudienceGovernorate, Governorate: "nablus", Institution: inst.ID}, ours[0].ID, ours[2].ID)
	listed(t, b, store.Audience{Kind: store.AudienceMembers, Institution: inst.ID}, ours[2].ID)
	listed(t, b, store.Audience{Kind: store.AudiencePledgers, CampaignID: camp.ID, Institution: inst.ID}, ours[0].ID, ours[1].ID)
	listed(t, b, store.Audience{Kind: store.AudienceNotPledged, CampaignID: camp.ID, Institution: inst.ID}, ours[2].ID)
	listed(t, b, store.Audience{Kind: store.AudienceEveryone, Institution: other.ID}, theirs.ID)
	check(store.Audience{Kind: store.AudienceGovernorate, Governorate: "nablus", Institution: inst.ID}, map[bot.ChannelName]int{tg: 2})
	check(store.Audience{Kind: store.AudienceLang, Lang: "en", Institution: inst.ID}, map[bot.ChannelName]int{wa: 1})
	check(store.Audience{Kind: store.AudienceMembers, Institution: inst.ID}, map[bot.ChannelName]int{tg: 1})
	check(store.Audience{Kind: store.AudiencePledgers, CampaignID: camp.ID, Institution: inst.ID}, map[bot.ChannelName]int{tg: 1, wa: 1})
	check(store.Audience{Kind: store.AudienceNotPledged, CampaignID: camp.ID, Institution: inst.ID}, map[bot.ChannelName]int{tg: 1})
	check(store.Audience{Kind: store.AudienceEveryone, Institution: other.ID}, map[bot.ChannelName]int{tg: 1})
	check(store.Audience{Kind: store.AudienceEveryone, Institution: other.ID + 100}, map[bot.ChannelName]int{})
	check(store.Audience{Kind: store.AudienceGovernorate, Governorate: "nablus"}, map[bot.ChannelName]int{tg: 4})
	_, err = b.CountAudience(ctx, store.Audience{Kind: store.AudiencePledgers, CampaignID: camp.ID + 9, Institution: inst.ID}, nil)
	require.ErrorIs(t, err, store.ErrCampaignNotFound)

	// leaving the list, and coming back, move people out of and into its audiences
	_, err = b.LeaveSupporters(ctx, inst.ID, ours[0].ID)
	require.NoError(t, err)
	check(store.Audience{Kind: store.AudienceEveryone, Institution: inst.ID}, map[bot.ChannelName]int{tg: 1, wa: 1})
	listed(t, b, store.Audience{Kind: store.AudienceEveryone, Institution: inst.ID}, ours[1].ID, ours[2].ID)
	check(store.Audience{Kind: store.AudiencePledgers, CampaignID: camp.ID, Institution: inst.ID}, map[bot.ChannelName]int{wa: 1})
	check(store.Audience{Kind: store.AudienceEveryone}, map[bot.ChannelName]int{tg: 4, wa: 1})
	_, err = b.AddSupporter(ctx, store.Support{InstitutionID: inst.ID, ContactID: ours[0].ID, Via: store.ViaLink}, true)
	require.NoError(t, err)
	check(store.Audience{Kind: store.AudiencePledgers, CampaignID: camp.ID, Institution: inst.ID}, map[bot.ChannelName]int{tg: 1, wa: 1})

	// counted inside the unit of work that adds to the list
	boom := errors.New("boom")
	err = b.InTx(ctx, func(ctx context.Context) error {
		if _, err := b.AddSupporter(ctx, store.Support{InstitutionID: other.ID, ContactID: nobody.ID, Via: store.ViaPledge}, false); err != nil {
			return err
		}
		got, err := b.CountAudience(ctx, store.Audience{Kind: store.AudienceEveryone, Institution: other.ID}, nil)
		if err != nil {
			return err
		}
		if got.Total != 2 {
			return fmt.Errorf("inside the unit of work: %d supporters, want 2", got.Total)
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	check(store.Audience{Kind: store.AudienceEveryone, Institution: other.ID}, map[bot.ChannelName]int{tg: 1})
}

// longList is more people than a store reads of a list at a time.
const longList = 1_234

// crowd creates n consenting people in one unit of work and returns their IDs.
func crowd(t *testing.T, b Backend, n int) []uint64 {
	t.Helper()
	var ids []uint64
	err := b.InTx(ctx, func(ctx context.Context) error {
		ids = ids[:0]
		for i := range n {
			c, _, err := b.EnsureContact(ctx, addr(fmt.Sprintf("telegram:%d", 10_000+i)), "", "ar")
			if err != nil {
				return err
			}
			if _, err := b.UpdateContact(ctx, c.ID, func(c *store.Contact) error { c.Consent = true; return nil }); err != nil {
				return err
			}
			ids = append(ids, c.ID)
		}
		return nil
	})
	require.NoError(t, err)
	return ids
}

// testLongSupportersList lists a list longer than one read: every record
// once, in contact ID order, and stops where fn says.
func testLongSupportersList(t *testing.T, b InstitutionsBackend) {
	inst := member(t, b, "Dialogue Centre")
	ids := crowd(t, b, longList)
	err := b.InTx(ctx, func(ctx context.Context) error {
		// added in a shuffled order: the list is in contact ID order all the same
		for i := range ids {
			id := ids[(i*7919)%len(ids)]
			if _, err := b.AddSupporter(ctx, store.Support{InstitutionID: inst.ID, ContactID: id, Via: store.ViaLink}, false); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
	var seen []uint64
	require.NoError(t, b.Supporters(ctx, inst.ID, func(sp *store.Support) error {
		seen = append(seen, sp.ContactID)
		return nil
	}))
	require.Equal(t, ids, seen)
	stop := errors.New("enough")
	n := 0
	err = b.Supporters(ctx, inst.ID, func(sp *store.Support) error {
		if n++; n == longList-1 {
			return stop
		}
		return nil
	})
	require.Equal(t, stop, err)
	require.Equal(t, longList-1, n)
	count, err := b.CountAudience(ctx, store.Audience{Kind: store.AudienceEveryone, Institution: inst.ID}, nil)
	require.NoError(t, err)
	require.Equal(t, longList, count.Total)
}

// Lister is a Backend that lists an audience's people, as
// store.Store.Recipients does. The tests of the audiences of an
// institution's supporters and of a poll's answer check the list as well
// as the count on a backend that has it.
type Lister interface {
	Recipients(ctx context.Context, aud store.Audience, channelOK func(channel bot.ChannelName) bool) ([]store.Recipient, error)
}

// listed checks, on a backend that is a Lister, that aud's recipients are
// the contacts want, in that order.
func listed(t *testing.T, b Backend, aud store.Audience, want ...uint64) {
	t.Helper()
	l, ok := b.(Lister)
	if !ok {
		return
	}
	rs, err := l.Recipients(ctx, aud, nil)
	require.NoError(t, err, "%+v", aud)
	got := []uint64{}
	for _, r := range rs {
		got = append(got, r.ContactID)
	}
	if want == nil {
		want = []uint64{}
	}
	require.Equal(t, want, got, "%+v", aud)
}
