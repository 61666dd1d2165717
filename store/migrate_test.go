package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mobilise/bot"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

// openRawBolt opens a bbolt file without the store, as an older program
// would have left it.
func openRawBolt(t *testing.T, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	return db
}

// futureField is a contact field of a number no version knows yet:
// protowire tag 99, bytes "kept".
var futureField = []byte{0x9a, 0x06, 0x04, 'k', 'e', 'p', 't'}

func TestMigrations(t *testing.T) {
	// each case sets up a file at version-1 (after the earlier migrations)
	// with data, and checks the file after its migration ran
	cases := []struct {
		version uint64
		before  func(t *testing.T, tx *bbolt.Tx)
		after   func(t *testing.T, tx *bbolt.Tx)
	}{
		{
			version: 1,
			before:  func(*testing.T, *bbolt.Tx) {},
			after: func(t *testing.T, tx *bbolt.Tx) {
				for _, name := range []string{
					"meta", "contacts", "addresses", "refcodes", "institutions", "campaigns",
					"campaign_codes", "pledges", "signups", "counters", "sessions", "audit",
					"handled_updates", "handled_by_time",
				} {
					assert.NotNil(t, tx.Bucket([]byte(name)), "bucket %s", name)
				}
			},
		},
		{
			version: 2,
			before: func(t *testing.T, tx *bbolt.Tx) {
				require.NoError(t, tx.Bucket(bucketContacts).Put(itob(1), []byte(`{"id":1}`)))
			},
			after: func(t *testing.T, tx *bbolt.Tx) {
				for _, name := range []string{
					"outbox", "outbox_ids", "outbox_by_broadcast", "outbox_sent", "broadcasts", "reminders", "reminders_due",
				} {
					assert.NotNil(t, tx.Bucket([]byte(name)), "bucket %s", name)
				}
				assert.NotNil(t, tx.Bucket(bucketContacts).Get(itob(1)), "earlier data kept")
			},
		},
		{
			version: 3,
			before: func(t *testing.T, tx *bbolt.Tx) {
				require.NoError(t, tx.Bucket(bucketBroadcasts).Put(itob(1), []byte(`{"id":1,"created_by":4}`)))
				require.NoError(t, tx.Bucket(bucketMeta).Put([]byte("link_code:abcdefgh"), []byte(`{"contact_id":1}`)))
			},
			after: func(t *testing.T, tx *bbolt.Tx) {
				require.NotNil(t, tx.Bucket([]byte("aliases")))
				require.NotNil(t, tx.Bucket([]byte("bulk_sends")))
				require.NotNil(t, tx.Bucket([]byte("link_codes")))
				assert.Nil(t, tx.Bucket(bucketMeta).Get([]byte("link_code:abcdefgh")), "old codes dropped")
				assert.NotNil(t, tx.Bucket(bucketMeta).Get(keySchemaVersion))
				assert.Zero(t, tx.Bucket([]byte("aliases")).Stats().KeyN, "no merge is invented")
				assert.NotNil(t, tx.Bucket(bucketBroadcasts).Get(itob(1)), "earlier data kept")
			},
		},
		{
			version: 4,
			before: func(t *testing.T, tx *bbolt.Tx) {
				put := func(bucket []byte, key []byte, v string) { require.NoError(t, tx.Bucket(bucket).Put(key, []byte(v))) }
				put(bucketCampaigns, itob(1), `{"id":1,"code":"olive","kind":"both","start_at":"2026-03-01T09:00:00Z"}`)
				put(bucketContacts, itob(1), `{"id":1,"addresses":["telegram:1","whatsapp:9701"],"name":"سمر","lang":"ar","consent":true,`+
					`"consent_at":"2026-03-01T09:00:00.123456789Z","governorate":"nablus","ref_code":"abc","preferred_channel":"whatsapp",`+
					`"unreachable":{"telegram:1":"2026-03-02T10:00:00Z"},"referrals":2,"created_at":"2026-03-01T09:00:00Z"}`)
				put(bucketContacts, itob(4), `{"id":4,"addresses":["console:4"],"lang":"en","role":"coordinator","ref_code":"def","created_at":"2026-03-01T09:00:00Z"}`)
				put(bucketPledges, pairKey(1, 1), `{"campaign_id":1,"contact_id":1,"at":"2026-03-01T09:00:00Z"}`)
				put(bucketSignups, pairKey(1, 1), `{"campaign_id":1,"contact_id":1,"at":"2026-03-01T09:00:00Z"}`)
				put(bucketSignups, pairKey(1, 4), `{"campaign_id":1,"contact_id":4,"at":"2026-03-01T09:00:00Z"}`)
				require.NoError(t, tx.Bucket(bucketContacts).SetSequence(7))
			},
			after: func(t *testing.T, tx *bbolt.Tx) {
				contacts := tx.Bucket(bucketContacts)
				assert.Equal(t, uint64(7), contacts.Sequence(), "IDs are never reused")
				var c Contact
				require.NoError(t, getContact(contacts, itob(1), &c))
				at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
				assert.Equal(t, Contact{ID: 1, Addresses: addrList("telegram:1", "whatsapp:9701"), Name: "سمر", Lang: "ar",
					Consent: true, ConsentAt: at.Add(123456789), Governorate: "nablus", RefCode: "abc", PreferredChannel: "whatsapp",
					Unreachable: map[bot.Address]time.Time{bot.MustParseAddress("telegram:1"): at.Add(25 * time.Hour)}, Referrals: 2, CreatedAt: at}, c)
				assert.JSONEq(t, `{"at":"2026-03-01T09:00:00Z"}`, string(tx.Bucket(bucketPledges).Get(pairKey(1, 1))), "the key holds the IDs")
				assert.JSONEq(t, `{"at":"2026-03-01T09:00:00Z"}`, string(tx.Bucket(bucketSignups).Get(pairKey(1, 4))))
				require.NoError(t, getContact(contacts, itob(4), &c))
				assert.Equal(t, RoleCoordinator, c.Role)
				assert.Equal(t, uint64(4), c.ID)

				// only contact 1 consented; Telegram is unreachable, so it is reached on WhatsApp
				counts := map[string]uint64{}
				require.NoError(t, tx.Bucket(bucketAudienceCounts).ForEach(func(k, v []byte) error {
					counts[string(k)] = btoi(v)
					return nil
				}))
				sig := append(appendPart(nil, []byte("whatsapp")), appendPart(nil, []byte("whatsapp"))...)
				assert.Equal(t, map[string]uint64{
					string(countKey(segment(segEveryone, nil), sig)):                 1,
					string(countKey(segment(segGovernorate, []byte("nablus")), sig)): 1,
					string(countKey(segment(segLang, []byte("ar")), sig)):            1,
					string(countKey(segment(segPledged, itob(1)), sig)):              1,
					string(countKey(segment(segSignedUp, itob(1)), sig)):             1,
				}, counts)
			},
		},
		{
			version: 5,
			before: func(t *testing.T, tx *bbolt.Tx) {
				require.NoError(t, tx.Bucket(bucketCampaigns).Put(itob(1), []byte(`{"id":1,"code":"olive"}`)))
			},
			after: func(t *testing.T, tx *bbolt.Tx) {
				require.NotNil(t, tx.Bucket([]byte("dashboard")))
				assert.Zero(t, tx.Bucket([]byte("dashboard")).Stats().KeyN, "nobody is signed in")
				assert.NotNil(t, tx.Bucket(bucketCampaigns).Get(itob(1)), "earlier data kept")
			},
		},
		{
			version: 6,
			before: func(t *testing.T, tx *bbolt.Tx) {
				require.NoError(t, tx.Bucket(bucketCampaigns).Put(itob(2), []byte(`{"id":2,"code":"walk"}`)))
			},
			after: func(t *testing.T, tx *bbolt.Tx) {
				require.NotNil(t, tx.Bucket(bucketWatchers))
				assert.Zero(t, tx.Bucket(bucketWatchers).Stats().KeyN, "nobody is waiting yet")
				assert.NotNil(t, tx.Bucket(bucketCampaigns).Get(itob(2)), "earlier data kept")
			},
		},
		{
			version: 7,
			before: func(t *testing.T, tx *bbolt.Tx) {
				insts, contacts := tx.Bucket(bucketInstitutions), tx.Bucket(bucketContacts)
				require.NoError(t, insts.Put(itob(1), []byte(`{"id":1,"name_ar":"مركز الحوار","name_en":"Dialogue Centre","status":"approved","applicant_id":1,"decided_by":9,"decided_at":"2026-01-05T10:00:00Z"}`)))
				require.NoError(t, insts.Put(itob(2), []byte(`{"id":2,"name_ar":"جمعية","status":"pending","applicant_id":2}`)))
				require.NoError(t, insts.Put(itob(3), []byte(`{"id":3,"name_ar":"منتدى","status":"approved","applicant_id":0}`)))
				// a member with a field of a number this migration does not know, a pending applicant, a coordinator
				member := Contact{ID: 1, Role: RoleMember, InstitutionID: 1, RefCode: "aaaa"}
				rec, err := withFields(encodeContact(&member), futureField)
				require.NoError(t, err)
				require.NoError(t, contacts.Put(itob(1), rec))
				for _, c := range []Contact{{ID: 2, RefCode: "bbbb", InstitutionID: 2}, {ID: 3, Role: RoleCoordinator, RefCode: "cccc"}} {
					require.NoError(t, contacts.Put(itob(c.ID), encodeContact(&c)))
				}
				require.NoError(t, tx.Bucket(bucketCampaigns).Put(itob(1), []byte(`{"id":1,"code":"walk","created_by":3}`)))
				require.NoError(t, tx.Bucket(bucketBroadcasts).Put(itob(1), []byte(`{"id":1,"created_by":3}`)))
			},
			after: func(t *testing.T, tx *bbolt.Tx) {
				for _, b := range [][]byte{bucketInstitutionPeople, bucketSupporters, bucketSupportedBy, bucketInstitutionCodes} {
					require.NotNil(t, tx.Bucket(b), "bucket %s", b)
				}
				assert.Zero(t, tx.Bucket(bucketSupporters).Stats().KeyN, "no one is on a list they did not join")

				// today's members become representatives of their approved institutions
				var member Contact
				require.NoError(t, getContact(tx.Bucket(bucketContacts), itob(1), &member))
				require.Len(t, member.Affiliations, 1)
				assert.Equal(t, Affiliation{InstitutionID: 1, Role: InstitutionRepresentative, By: 9,
					Since: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)}, member.Affiliations[0])
				assert.Equal(t, RoleMember, member.Role, "the coalition's role stays")
				assert.True(t, bytes.Contains(tx.Bucket(bucketContacts).Get(itob(1)), futureField), "fields it does not know stay")
				assert.NotNil(t, tx.Bucket(bucketInstitutionPeople).Get(pairKey(1, 1)), "indexed")
				for _, id := range []uint64{2, 3} {
					var c Contact
					require.NoError(t, getContact(tx.Bucket(bucketContacts), itob(id), &c))
					assert.Empty(t, c.Affiliations, "contact %d represents nothing", id)
				}
				assert.Equal(t, 1, tx.Bucket(bucketInstitutionPeople).Stats().KeyN)

				// approved institutions get their share codes; the pending one waits for its approval
				codes := map[uint64]string{}
				for _, id := range []uint64{1, 2, 3} {
					var inst Institution
					require.NoError(t, getJSON(tx.Bucket(bucketInstitutions), itob(id), &inst))
					codes[id] = inst.Code
				}
				assert.Equal(t, map[uint64]string{1: "dialoguecentre", 2: "", 3: "org3"}, codes)
				assert.Equal(t, itob(1), tx.Bucket(bucketInstitutionCodes).Get([]byte("dialoguecentre")))

				// today's campaigns and broadcasts are the coalition's
				var c Campaign
				require.NoError(t, getJSON(tx.Bucket(bucketCampaigns), itob(1), &c))
				assert.True(t, c.Organiser.IsCoalition())
				assert.Equal(t, "walk", c.Code)
				var b Broadcast
				require.NoError(t, getJSON(tx.Bucket(bucketBroadcasts), itob(1), &b))
				assert.True(t, b.Organiser.IsCoalition())
			},
		},
		{
			version: 8,
			before: func(t *testing.T, tx *bbolt.Tx) {
				require.NoError(t, tx.Bucket(bucketBroadcasts).Put(itob(1), []byte(`{"id":1,"text_ar":"نص","audience":{"kind":"everyone"}}`)))
			},
			after: func(t *testing.T, tx *bbolt.Tx) {
				for _, name := range []string{"polls", "poll_index", "poll_answers", "poll_asked", "poll_counts", "verify_codes"} {
					b := tx.Bucket([]byte(name))
					require.NotNil(t, b, "bucket %s", name)
					assert.Zero(t, b.Stats().KeyN, "bucket %s starts empty: no poll or code is invented for an old broadcast", name)
				}
				assert.NotNil(t, tx.Bucket(bucketBroadcasts).Get(itob(1)), "earlier data kept")
			},
		},
		{
			version: 9,
			before: func(t *testing.T, tx *bbolt.Tx) {
				require.NoError(t, tx.Bucket(bucketBroadcasts).Put(itob(1), []byte(`{"id":1,"text_ar":"نص","audience":{"kind":"everyone"}}`)))
			},
			after: func(t *testing.T, tx *bbolt.Tx) {
				b := tx.Bucket([]byte("media_uploads"))
				require.NotNil(t, b)
				assert.Zero(t, b.Stats().KeyN, "no upload is invented")
				var bc Broadcast
				require.NoError(t, getJSON(tx.Bucket(bucketBroadcasts), itob(1), &bc))
				assert.Nil(t, bc.Media, "an older broadcast carries no file")
			},
		},
	}
	require.Len(t, cases, len(migrations), "each migration needs a test case")

	var prev uint64
	for _, m := range migrations {
		require.Greater(t, m.version, prev, "versions increase (they need not be contiguous)")
		prev = m.version
	}
	for i, tc := range cases {
		m := migrations[i]
		require.Equal(t, m.version, tc.version)
		t.Run(m.name, func(t *testing.T) {
			db := openRawBolt(t, filepath.Join(t.TempDir(), "old.db"))
			defer func() { require.NoError(t, db.Close()) }()
			if i > 0 {
				require.NoError(t, db.Update(func(tx *bbolt.Tx) error { return applyMigrations(tx, migrations[:i]) }))
			}
			require.NoError(t, db.Update(func(tx *bbolt.Tx) error {
				tc.before(t, tx)
				return applyMigrations(tx, migrations[:i+1])
			}))
			require.NoError(t, db.View(func(tx *bbolt.Tx) error {
				assert.Equal(t, m.version, schemaVersion(tx))
				tc.after(t, tx)
				return nil
			}))
		})
	}
}

func TestOpenMigratesOlderFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mobilise.db")
	// version 0: a bbolt file with none of the store's buckets
	db := openRawBolt(t, path)
	require.NoError(t, db.Close())

	s, err := Open(path)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	require.NoError(t, s.DB().View(func(tx *bbolt.Tx) error {
		assert.Equal(t, migrations[len(migrations)-1].version, schemaVersion(tx))
		return nil
	}))
	_, _, err = s.EnsureContact(context.Background(), bot.MustParseAddress("console:alice"), "Alice", "en")
	require.NoError(t, err)
}

func TestMigrateRunsOnlyPendingInOneTransaction(t *testing.T) {
	var ran []uint64
	step := func(v uint64, err error) migration {
		return migration{version: v, name: "step", up: func(tx *bbolt.Tx) error {
			ran = append(ran, v)
			if _, berr := tx.CreateBucketIfNotExists([]byte{byte('a' + v)}); berr != nil {
				return berr
			}
			return err
		}}
	}
	s, _ := openTestStore(t)
	// these steps stand for the whole history: start from version 1
	require.NoError(t, s.DB().Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, itob(1))
	}))

	_, err := s.migrate([]migration{step(1, nil), step(2, nil)})
	require.NoError(t, err)
	assert.Equal(t, []uint64{2}, ran)

	ran = nil
	_, err = s.migrate([]migration{step(1, nil), step(2, nil), step(3, nil)})
	require.NoError(t, err)
	assert.Equal(t, []uint64{3}, ran, "only the migration above the file's version runs")

	ran = nil
	_, err = s.migrate([]migration{step(1, nil), step(2, nil), step(3, nil)})
	require.NoError(t, err)
	assert.Empty(t, ran, "a current file is not written")

	// a failing migration leaves nothing of the earlier ones in the same run
	boom := errors.New("boom")
	ran = nil
	_, err = s.migrate([]migration{step(1, nil), step(2, nil), step(3, nil), step(4, nil), step(5, boom)})
	require.ErrorIs(t, err, boom)
	assert.Equal(t, []uint64{4, 5}, ran)
	require.NoError(t, s.DB().View(func(tx *bbolt.Tx) error {
		assert.Equal(t, uint64(3), schemaVersion(tx))
		assert.Nil(t, tx.Bucket([]byte{'a' + 4}), "bucket of migration 4 rolled back")
		return nil
	}))
	// put the real schema version back for the end-of-test check
	require.NoError(t, s.DB().Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, itob(migrations[len(migrations)-1].version))
	}))
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mobilise.db")
	s, err := Open(path)
	require.NoError(t, err)
	require.NoError(t, s.DB().Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, itob(99))
	}))
	require.NoError(t, s.Close())
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	_, err = Open(path)
	require.ErrorIs(t, err, ErrSchemaTooNew)
	assert.Contains(t, err.Error(), "version 99")
	assert.Contains(t, err.Error(), "newer")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(before, after), "file content changed")

	// and the file is not left locked
	db := openRawBolt(t, path)
	require.NoError(t, db.Close())
}

// TestOpenMigratesAndCompactsAVersion3File opens a file a version 3 program
// left, with a few thousand people: Open migrates it, then compacts it, and
// the people, their pledges and the audiences read as before.
func TestOpenMigratesAndCompactsAVersion3File(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mobilise.db")
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	person := func(i int) Contact {
		c := Contact{Addresses: addrList(fmt.Sprintf("telegram:%d", 1000+i)), Name: fmt.Sprintf("سمر %d", i), Lang: "ar",
			Consent: i%4 != 0, Governorate: []string{"gaza", "nablus"}[i%2], CreatedAt: at.Add(time.Duration(i) * time.Second), SeenAt: at}
		if i%3 == 0 {
			c.Addresses = append(c.Addresses, bot.MustParseAddress(fmt.Sprintf("whatsapp:97059%d", i)))
			c.PreferredChannel = "whatsapp"
		}
		return c
	}
	const n = 3000
	require.NoError(t, WriteVersion3(path, n, 2, person, func(i int) uint64 { return uint64(i%2 + 1) },
		func(i int) uint64 { return uint64(i % 3) }))
	before, err := os.Stat(path)
	require.NoError(t, err)

	s, err := Open(path)
	require.NoError(t, err)
	after, err := os.Stat(path)
	require.NoError(t, err)
	assert.Less(t, after.Size(), before.Size()/2, "compacted after the migration")
	require.NoError(t, s.Check())
	ctx := context.Background()
	for _, i := range []int{0, 1, 2, 2999} {
		c, err := s.ContactByAddress(ctx, person(i).Addresses[0])
		require.NoError(t, err)
		want := person(i)
		want.ID, want.RefCode = uint64(i+1), fmt.Sprintf("r%06d", i)
		assert.Equal(t, want, *c)
		p, err := s.Pledge(ctx, uint64(i%2+1), c.ID)
		require.NoError(t, err)
		assert.Equal(t, c.ID, p.ContactID, "the key gives the pledge its contact")
	}
	everyone, err := s.CountAudience(ctx, Audience{Kind: AudienceEveryone}, nil)
	require.NoError(t, err)
	assert.Equal(t, n*3/4, everyone.Total)
	assert.Equal(t, map[bot.ChannelName]int{"telegram": 1500, "whatsapp": 750}, everyone.PerChannel)
	for _, aud := range []Audience{{Kind: AudienceGovernorate, Governorate: "gaza"}, {Kind: AudiencePledgers, CampaignID: 2}, {Kind: AudienceSignups, CampaignID: 1}} {
		count, err := s.CountAudience(ctx, aud, nil)
		require.NoError(t, err)
		assert.Len(t, specRecipients(t, s, aud, nil), count.Total, "%+v", aud)
	}
	c, _, err := s.EnsureContact(ctx, bot.MustParseAddress("telegram:1"), "جديد", "ar")
	require.NoError(t, err)
	assert.Equal(t, uint64(n+1), c.ID, "IDs carry on from the old file")
	require.NoError(t, s.Close())

	// opened again, the file is current: it is not compacted again, which
	// would replace it with a new file
	current, err := os.Stat(path)
	require.NoError(t, err)
	s, err = Open(path)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	again, err := os.Stat(path)
	require.NoError(t, err)
	assert.True(t, os.SameFile(current, again))
}
