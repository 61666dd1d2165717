package store

import (
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"testing"
	"time"

	"mobilise/bot"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// everyField is a contact with every field set.
func everyField() Contact {
	at := time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.UTC)
	return Contact{
		ID: 42, Addresses: addrList("telegram:1", "whatsapp:970599000001", "console:sa:ma"), Name: "سمر خليل", Lang: "en-US",
		Consent: true, ConsentAt: at, OnboardedAt: at.Add(time.Minute), Stopped: true, Governorate: "nablus", Role: RoleCoordinator,
		InstitutionID: 7, RefCode: "k2m3n4p", ReferredBy: 9, Referrals: -2, PreferredChannel: "whatsapp",
		CreatedAt: at.Add(-time.Hour), SeenAt: time.Date(2300, 1, 1, 0, 0, 0, 1, time.UTC),
		Unreachable: map[bot.Address]time.Time{
			bot.MustParseAddress("telegram:1"):    at.Add(time.Hour),
			bot.MustParseAddress("console:sa:ma"): time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC),
		},
		Affiliations: []Affiliation{
			{InstitutionID: 7, Role: InstitutionRepresentative, Since: at, By: 3},
			{InstitutionID: 12, Role: InstitutionCoordinator},
		},
	}
}

func TestContactRecordRoundTrip(t *testing.T) {
	for _, c := range []Contact{everyField(), {ID: 3}, {ID: 4, Addresses: addrList("telegram:5"), RefCode: "abc"}} {
		v := encodeContact(&c)
		var got Contact
		require.NoError(t, decodeContact(c.ID, v, &got))
		assert.Equal(t, c, got)
		assert.Equal(t, v, encodeContact(&got), "one form per contact")
	}
	c := everyField()
	asJSON, err := json.Marshal(asJSON3(c))
	require.NoError(t, err)
	assert.Less(t, len(encodeContact(&c)), len(asJSON)*2/3, "smaller than JSON")
}

func TestContactRecordDamageIsAnError(t *testing.T) {
	c := everyField()
	v := encodeContact(&c)
	for i := range v {
		damaged := append([]byte(nil), v...)
		damaged[i] ^= 0x10
		var got Contact
		assert.ErrorIs(t, decodeContact(1, damaged, &got), errBadContact, "byte %d", i)
		var cv contactView
		assert.ErrorIs(t, viewContact(damaged, &cv), errBadContact, "byte %d", i)
	}
	var got Contact
	for _, v := range [][]byte{nil, {}, {contactFormat}, []byte(`{"id":1}`), v[:len(v)-1]} {
		assert.ErrorIs(t, decodeContact(1, v, &got), errBadContact, "%q", v)
	}
}

// sealed makes a stored contact of fields: format byte and checksum.
func sealed(fields []byte) []byte {
	v := append([]byte{contactFormat}, fields...)
	return binary.BigEndian.AppendUint32(v, crc32.Checksum(fields, crcTable))
}

// FuzzContactRecord decodes arbitrary fields behind a valid checksum: the
// decoders never panic; a record that decodes encodes to one that decodes
// the same; and what audiences read of it (viewContact, the counters'
// facts, the recipient) agrees with the whole contact read as the spec
// reads it (ReachableAddress).
func FuzzContactRecord(f *testing.F) {
	for _, c := range []Contact{everyField(), {ID: 1, Addresses: addrList("telegram:1"), Consent: true, PreferredChannel: "telegram"}} {
		v := encodeContact(&c)
		f.Add(v[1 : len(v)-4])
	}
	f.Add([]byte{0x0a, 0x00, 0x0a, 0x03, 'x', ':', 'y', 0x20, 0x01})
	f.Fuzz(func(t *testing.T, fields []byte) {
		v := sealed(fields)
		var c Contact
		err := decodeContact(5, v, &c)
		var cv contactView
		verr := viewContact(v, &cv)
		if err != nil {
			return
		}
		require.NoError(t, verr, "what decodes whole decodes for audiences")
		again := encodeContact(&c)
		var c2 Contact
		require.NoError(t, decodeContact(5, again, &c2))
		require.Equal(t, c, c2)

		addr, ok := c.ReachableAddress(nil)
		reachable := c.Consent && !c.Stopped && ok
		f, err := factsOf(v)
		require.NoError(t, err)
		require.Equal(t, reachable, f.reachable)
		r, found := cv.recipient(5, channelFilter(nil))
		require.Equal(t, ok, found)
		if found {
			require.Equal(t, Recipient{ContactID: 5, Address: addr, Lang: langOf(c.Lang), Name: c.Name}, r)
		}
		if reachable {
			ch, picked := pickChannel(f.sig, channelFilter(nil))
			require.True(t, picked)
			require.Equal(t, string(addr.Channel), string(ch), "the signature picks the channel the address is on")
		}
	})
}
