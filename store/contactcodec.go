package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"time"

	"mobilise/bot"

	"go.etcd.io/bbolt"
	"google.golang.org/protobuf/encoding/protowire"
)

// Contacts are the one record there are hundreds of thousands of, and the
// one every audience reads, so they are stored in protobuf's wire format
// rather than JSON: a third of the size, and decoded in a tenth of the time,
// which is what lets a broadcast list 180,000 recipients by reading the
// records themselves, with no copy of them in an index. The format is
//
//	0x01 ‖ fields ‖ CRC-32C of the fields (4 bytes, big-endian)
//
// where the fields are numbered below; zero values are left out, so a new
// field needs no migration, as with JSON. A field of a number the program does
// not know is skipped. The checksum makes damage to a record an error instead
// of a silently different person. The key holds the contact ID, so the
// record does not repeat it.
const contactFormat = 0x01

// Field numbers of a stored contact. Append only: a number once used keeps
// its meaning. The fields most contacts have come first, where the tag is
// one byte.
const (
	cfAddress     protowire.Number = 1  // string "channel:id", repeated in order
	cfName        protowire.Number = 2  // string
	cfLang        protowire.Number = 3  // string
	cfConsent     protowire.Number = 4  // varint 1
	cfConsentAt   protowire.Number = 5  // time
	cfOnboardedAt protowire.Number = 6  // time
	cfStopped     protowire.Number = 7  // varint 1
	cfGovernorate protowire.Number = 8  // string
	cfRole        protowire.Number = 9  // string
	cfRefCode     protowire.Number = 10 // string
	cfPreferred   protowire.Number = 11 // string
	cfCreatedAt   protowire.Number = 12 // time
	cfSeenAt      protowire.Number = 13 // time
	cfUnreachable protowire.Number = 14 // message {1: address string, 2: time}, repeated, in address order
	cfReferredBy  protowire.Number = 15 // varint
	cfReferrals   protowire.Number = 16 // zigzag varint
	cfInstitution protowire.Number = 17 // varint
	// from version 7: message {1: institution id varint, 2: role string,
	// 3: since time, 4: by varint}, repeated, in order
	cfAffiliation protowire.Number = 18
)

// A time is a length-delimited field holding the zigzag varint of its Unix
// seconds and, unless zero, the varint of its nanoseconds: exact, in UTC, for
// any year.

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errBadContact is the cause of every decoding failure of a stored contact.
var errBadContact = errors.New("not a well-formed contact record")

// encodeContact returns c's stored form. c.ID is not part of it.
func encodeContact(c *Contact) []byte {
	b := make([]byte, 0, 192)
	b = append(b, contactFormat)
	for _, a := range c.Addresses {
		b = appendString(b, cfAddress, a.String())
	}
	b = appendNonEmpty(b, cfName, c.Name)
	b = appendNonEmpty(b, cfLang, c.Lang)
	b = appendBool(b, cfConsent, c.Consent)
	b = appendTime(b, cfConsentAt, c.ConsentAt)
	b = appendTime(b, cfOnboardedAt, c.OnboardedAt)
	b = appendBool(b, cfStopped, c.Stopped)
	b = appendNonEmpty(b, cfGovernorate, c.Governorate)
	b = appendNonEmpty(b, cfRole, string(c.Role))
	b = appendNonEmpty(b, cfRefCode, c.RefCode)
	b = appendNonEmpty(b, cfPreferred, string(c.PreferredChannel))
	b = appendTime(b, cfCreatedAt, c.CreatedAt)
	b = appendTime(b, cfSeenAt, c.SeenAt)
	if len(c.Unreachable) > 0 {
		addrs := make([]bot.Address, 0, len(c.Unreachable))
		for a := range c.Unreachable {
			addrs = append(addrs, a)
		}
		slices.SortFunc(addrs, func(x, y bot.Address) int { return strings.Compare(x.String(), y.String()) })
		for _, a := range addrs {
			var m []byte
			m = appendString(m, 1, a.String())
			m = appendTime(m, 2, c.Unreachable[a])
			b = protowire.AppendTag(b, cfUnreachable, protowire.BytesType)
			b = protowire.AppendBytes(b, m)
		}
	}
	if c.ReferredBy != 0 {
		b = protowire.AppendTag(b, cfReferredBy, protowire.VarintType)
		b = protowire.AppendVarint(b, c.ReferredBy)
	}
	if c.Referrals != 0 {
		b = protowire.AppendTag(b, cfReferrals, protowire.VarintType)
		b = protowire.AppendVarint(b, protowire.EncodeZigZag(int64(c.Referrals)))
	}
	if c.InstitutionID != 0 {
		b = protowire.AppendTag(b, cfInstitution, protowire.VarintType)
		b = protowire.AppendVarint(b, c.InstitutionID)
	}
	for _, a := range c.Affiliations {
		b = appendAffiliation(b, a)
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[1:], crcTable))
}

// appendAffiliation appends one affiliation field.
func appendAffiliation(b []byte, a Affiliation) []byte {
	var m []byte
	if a.InstitutionID != 0 {
		m = protowire.AppendTag(m, 1, protowire.VarintType)
		m = protowire.AppendVarint(m, a.InstitutionID)
	}
	m = appendNonEmpty(m, 2, string(a.Role))
	m = appendTime(m, 3, a.Since)
	if a.By != 0 {
		m = protowire.AppendTag(m, 4, protowire.VarintType)
		m = protowire.AppendVarint(m, a.By)
	}
	b = protowire.AppendTag(b, cfAffiliation, protowire.BytesType)
	return protowire.AppendBytes(b, m)
}

// withFields returns the stored contact v with the encoded fields more
// appended, every field it had kept as it was (those of numbers this
// program does not know among them), under a new checksum.
func withFields(v, more []byte) ([]byte, error) {
	fields, err := contactFields(v)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 1+len(fields)+len(more)+4)
	out = append(append(append(out, contactFormat), fields...), more...)
	return binary.BigEndian.AppendUint32(out, crc32.Checksum(out[1:], crcTable)), nil
}

func appendString(b []byte, n protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, n, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendNonEmpty(b []byte, n protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	return appendString(b, n, s)
}

func appendBool(b []byte, n protowire.Number, v bool) []byte {
	if !v {
		return b
	}
	b = protowire.AppendTag(b, n, protowire.VarintType)
	return protowire.AppendVarint(b, 1)
}

func appendTime(b []byte, n protowire.Number, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	var v [2 * binary.MaxVarintLen64]byte
	m := protowire.AppendVarint(v[:0], protowire.EncodeZigZag(t.Unix()))
	if ns := t.Nanosecond(); ns != 0 {
		m = protowire.AppendVarint(m, uint64(ns))
	}
	b = protowire.AppendTag(b, n, protowire.BytesType)
	return protowire.AppendBytes(b, m)
}

// contactFields checks the format byte and checksum of a stored contact and
// returns its fields.
func contactFields(v []byte) ([]byte, error) {
	if len(v) < 5 || v[0] != contactFormat {
		return nil, errBadContact
	}
	fields, sum := v[1:len(v)-4], binary.BigEndian.Uint32(v[len(v)-4:])
	if crc32.Checksum(fields, crcTable) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", errBadContact)
	}
	return fields, nil
}

// field is one decoded field: its number, and its value as a varint or as
// bytes (a subslice of the record).
type field struct {
	num    protowire.Number
	typ    protowire.Type
	varint uint64
	bytes  []byte
}

// nextField decodes the field at the start of b and returns the rest.
func nextField(b []byte) (field, []byte, error) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return field{}, nil, fmt.Errorf("%w: %v", errBadContact, protowire.ParseError(n))
	}
	b = b[n:]
	f := field{num: num, typ: typ}
	switch typ {
	case protowire.VarintType:
		f.varint, n = protowire.ConsumeVarint(b)
	case protowire.BytesType:
		f.bytes, n = protowire.ConsumeBytes(b)
	default:
		n = protowire.ConsumeFieldValue(num, typ, b)
	}
	if n < 0 {
		return field{}, nil, fmt.Errorf("%w: field %d: %v", errBadContact, num, protowire.ParseError(n))
	}
	return f, b[n:], nil
}

// want checks that a known field has the wire type its number needs.
func (f field) want(typ protowire.Type) error {
	if f.typ != typ {
		return fmt.Errorf("%w: field %d has wire type %d", errBadContact, f.num, f.typ)
	}
	return nil
}

// decodeContact decodes the stored contact v, under key id, into c.
func decodeContact(id uint64, v []byte, c *Contact) error {
	fields, err := contactFields(v)
	if err != nil {
		return err
	}
	*c = Contact{ID: id}
	for len(fields) > 0 {
		var f field
		if f, fields, err = nextField(fields); err != nil {
			return err
		}
		if err := c.setField(f); err != nil {
			return err
		}
	}
	return nil
}

func (c *Contact) setField(f field) error {
	str := func(dst *string) error {
		if err := f.want(protowire.BytesType); err != nil {
			return err
		}
		*dst = string(f.bytes)
		return nil
	}
	tm := func(dst *time.Time) error {
		if err := f.want(protowire.BytesType); err != nil {
			return err
		}
		var err error
		*dst, err = decodeTime(f.bytes)
		return err
	}
	flag := func(dst *bool) error {
		if err := f.want(protowire.VarintType); err != nil {
			return err
		}
		*dst = f.varint != 0
		return nil
	}
	switch f.num {
	case cfAddress:
		if err := f.want(protowire.BytesType); err != nil {
			return err
		}
		a, err := decodeAddress(f.bytes)
		if err != nil {
			return err
		}
		c.Addresses = append(c.Addresses, a)
	case cfName:
		return str(&c.Name)
	case cfLang:
		return str(&c.Lang)
	case cfConsent:
		return flag(&c.Consent)
	case cfConsentAt:
		return tm(&c.ConsentAt)
	case cfOnboardedAt:
		return tm(&c.OnboardedAt)
	case cfStopped:
		return flag(&c.Stopped)
	case cfGovernorate:
		return str(&c.Governorate)
	case cfRole:
		var s string
		err := str(&s)
		c.Role = Role(s)
		return err
	case cfRefCode:
		return str(&c.RefCode)
	case cfPreferred:
		var s string
		err := str(&s)
		c.PreferredChannel = bot.ChannelName(s)
		return err
	case cfCreatedAt:
		return tm(&c.CreatedAt)
	case cfSeenAt:
		return tm(&c.SeenAt)
	case cfUnreachable:
		if err := f.want(protowire.BytesType); err != nil {
			return err
		}
		a, at, err := decodeUnreachable(f.bytes)
		if err != nil {
			return err
		}
		if c.Unreachable == nil {
			c.Unreachable = map[bot.Address]time.Time{}
		}
		c.Unreachable[a] = at
	case cfReferredBy:
		if err := f.want(protowire.VarintType); err != nil {
			return err
		}
		c.ReferredBy = f.varint
	case cfReferrals:
		if err := f.want(protowire.VarintType); err != nil {
			return err
		}
		c.Referrals = int(protowire.DecodeZigZag(f.varint))
	case cfInstitution:
		if err := f.want(protowire.VarintType); err != nil {
			return err
		}
		c.InstitutionID = f.varint
	case cfAffiliation:
		if err := f.want(protowire.BytesType); err != nil {
			return err
		}
		a, err := decodeAffiliation(f.bytes)
		if err != nil {
			return err
		}
		c.Affiliations = append(c.Affiliations, a)
	}
	return nil
}

func decodeAffiliation(b []byte) (Affiliation, error) {
	var a Affiliation
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil {
			return a, err
		}
		b = rest
		switch f.num {
		case 1, 4:
			if err := f.want(protowire.VarintType); err != nil {
				return a, err
			}
			if f.num == 1 {
				a.InstitutionID = f.varint
			} else {
				a.By = f.varint
			}
		case 2:
			if err := f.want(protowire.BytesType); err != nil {
				return a, err
			}
			a.Role = InstitutionRole(f.bytes)
		case 3:
			if err := f.want(protowire.BytesType); err != nil {
				return a, err
			}
			if a.Since, err = decodeTime(f.bytes); err != nil {
				return a, err
			}
		}
	}
	return a, nil
}

// decodeAddress reads "channel:id"; the empty string is the zero address,
// as in JSON.
func decodeAddress(b []byte) (bot.Address, error) {
	if len(b) == 0 {
		return bot.Address{}, nil
	}
	ch, id, _ := bytes.Cut(b, []byte{':'})
	a := bot.Address{Channel: bot.ChannelName(ch), ID: string(id)}
	if !a.Valid() {
		return bot.Address{}, fmt.Errorf("%w: address %q", errBadContact, b)
	}
	return a, nil
}

func decodeTime(b []byte) (time.Time, error) {
	sec, n := protowire.ConsumeVarint(b)
	if n < 0 {
		return time.Time{}, fmt.Errorf("%w: time", errBadContact)
	}
	var ns uint64
	if rest := b[n:]; len(rest) > 0 {
		var m int
		if ns, m = protowire.ConsumeVarint(rest); m < 0 || m != len(rest) || ns >= 1e9 {
			return time.Time{}, fmt.Errorf("%w: time", errBadContact)
		}
	}
	return time.Unix(protowire.DecodeZigZag(sec), int64(ns)).UTC(), nil
}

func decodeUnreachable(b []byte) (bot.Address, time.Time, error) {
	var a bot.Address
	var at time.Time
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil {
			return a, at, err
		}
		b = rest
		switch f.num {
		case 1:
			if err := f.want(protowire.BytesType); err != nil {
				return a, at, err
			}
			if a, err = decodeAddress(f.bytes); err != nil {
				return a, at, err
			}
		case 2:
			if err := f.want(protowire.BytesType); err != nil {
				return a, at, err
			}
			if at, err = decodeTime(f.bytes); err != nil {
				return a, at, err
			}
		}
	}
	return a, at, nil
}

// getContact decodes the contact stored under id in contacts, or returns ErrNotFound.
func getContact(contacts *bbolt.Bucket, id []byte, c *Contact) error {
	v := contacts.Get(id)
	if v == nil {
		return ErrNotFound
	}
	if err := decodeContact(btoi(id), v, c); err != nil {
		return fmt.Errorf("decoding contact %d: %w", btoi(id), err)
	}
	return nil
}
