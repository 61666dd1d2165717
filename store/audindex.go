package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"mobilise/bot"

	"go.etcd.io/bbolt"
	"google.golang.org/protobuf/encoding/protowire"
)

// Bucket of schema version 4.
var bucketAudienceCounts = []byte("audience_counts")

// The audience counters. A person counts for audiences when they consented,
// have not said /stop and have an address not marked unreachable: then they
// add one to the counter of every segment they belong to (everyone; members;
// their governorate; their language; the campaigns they pledged to or signed
// up for; the institutions whose lists they are on), under their reach signature: their preferred channel and the
// channels of their usable addresses, in order. The signature is what
// decides which channel a message to them takes once the configured
// channels are known (ReachableAddress), so a count per channel is a sum
// over a handful of counters, whatever the number of people. Every change
// that moves a person between segments or signatures moves the counters in
// the same transaction (reindex, joinRelation, leaveRelation); Check
// recounts them from the records.
//
// Counter keys are (uvarint length of the segment ‖ segment ‖ signature),
// values 8-byte counts; a counter that falls to zero is deleted.

// Segment tags: the first byte of a segment, followed by its detail.
const (
	segEveryone    byte = 'a' // no detail
	segMembers     byte = 'm' // no detail: representing a member institution
	segGovernorate byte = 'g' // the governorate key
	segLang        byte = 'l' // "ar" or "en", as langOf reads the stored language
	segPledged     byte = 'p' // campaign id (8 bytes)
	segSignedUp    byte = 's' // campaign id (8 bytes)
	segSupporters  byte = 'i' // institution id (8 bytes): on its list now
)

// segment is a segment's name: its tag and detail.
func segment(tag byte, detail []byte) []byte {
	s := make([]byte, 0, 1+len(detail))
	return append(append(s, tag), detail...)
}

// segmentPrefix is the prefix of every counter of seg.
func segmentPrefix(seg []byte) []byte {
	p := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen16+len(seg)), uint64(len(seg)))
	return append(p, seg...)
}

// countKey is the key of seg's counter for signature sig.
func countKey(seg, sig []byte) []byte { return append(segmentPrefix(seg), sig...) }

// A relation pairs contacts with something else, a campaign they pledged to
// or signed up for, an institution whose list they are on, in a bucket of
// (owner ‖ contact id) keys; the people of one owner are an audience of
// their own. Another one (the people who gave one answer to a poll) takes: an entry in
// relations, with a tag not used above; joinRelation and leaveRelation in
// the transaction that writes or deletes a pair; its AudienceKind mapped to
// the segment in audienceSegments and listed in listRecipients; and, in the
// migration that brings its bucket, the counters recounted with
// replaceCounts(tx, buildCounts(tx)). Check and RecountAudiences then count
// it like the others. A relation whose bucket the file does not have yet
// counts nobody.
type relation struct {
	tag   byte
	pairs []byte
	// owners lists the owners the contact is paired with, inside tx: when
	// a person's reach changes, every counter of theirs moves.
	owners func(tx *bbolt.Tx, contactID uint64) ([][]byte, error)
	// counts says whether the pair stored as (k, v) counts; nil: every
	// pair does. A supporter who left the list keeps their record, and
	// counts no more.
	counts func(k, v []byte) (bool, error)
}

// relations are the relations that define audiences.
func relations() []relation {
	return []relation{
		{tag: segPledged, pairs: bucketPledges, owners: campaignPairs(bucketPledges)},
		{tag: segSignedUp, pairs: bucketSignups, owners: campaignPairs(bucketSignups)},
		{tag: segSupporters, pairs: bucketSupporters, owners: supportedLists, counts: activeSupport},
	}
}

// supportedLists lists the institutions whose lists a contact is on now,
// from the reverse index: one lookup per list they were ever put on.
func supportedLists(tx *bbolt.Tx, contactID uint64) ([][]byte, error) {
	by, sups := tx.Bucket(bucketSupportedBy), tx.Bucket(bucketSupporters)
	if by == nil || sups == nil {
		return nil, nil
	}
	var out [][]byte
	prefix := itob(contactID)
	c := by.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if len(k) != 16 {
			continue // Check reports it
		}
		on, err := onList(sups, btoi(k[8:]), contactID)
		if err != nil {
			return nil, err
		}
		if on {
			out = append(out, bytes.Clone(k[8:]))
		}
	}
	return out, nil
}

// campaignPairs lists the campaigns a contact has a (campaign ‖ contact)
// pair with in bucket: one lookup per campaign, which is cheap beside the
// number of people.
func campaignPairs(bucket []byte) func(tx *bbolt.Tx, contactID uint64) ([][]byte, error) {
	return func(tx *bbolt.Tx, contactID uint64) ([][]byte, error) {
		var out [][]byte
		pairs := tx.Bucket(bucket)
		if pairs == nil {
			return nil, nil
		}
		err := forEachCampaignID(tx, func(cid uint64) error {
			if pairs.Get(pairKey(cid, contactID)) != nil {
				out = append(out, itob(cid))
			}
			return nil
		})
		return out, err
	}
}

// contactView is what audiences read of a stored contact, as subslices of
// the record: valid only inside its transaction. Reading it allocates
// nothing but the two slices, which viewContact reuses.
type contactView struct {
	consent, stopped            bool
	institution                 uint64
	role, lang, gov, name, pref []byte
	addrs, unreachable          [][]byte
}

// viewContact decodes the fields of the stored contact v that audiences read.
func viewContact(v []byte, cv *contactView) error {
	fields, err := contactFields(v)
	if err != nil {
		return err
	}
	*cv = contactView{addrs: cv.addrs[:0], unreachable: cv.unreachable[:0]}
	for len(fields) > 0 {
		var f field
		if f, fields, err = nextField(fields); err != nil {
			return err
		}
		bytesField := func(dst *[]byte) error {
			if err := f.want(protowire.BytesType); err != nil {
				return err
			}
			*dst = f.bytes
			return nil
		}
		switch f.num {
		case cfAddress:
			var a []byte
			if err := bytesField(&a); err != nil {
				return err
			}
			cv.addrs = append(cv.addrs, a)
		case cfName:
			err = bytesField(&cv.name)
		case cfLang:
			err = bytesField(&cv.lang)
		case cfGovernorate:
			err = bytesField(&cv.gov)
		case cfRole:
			err = bytesField(&cv.role)
		case cfPreferred:
			err = bytesField(&cv.pref)
		case cfInstitution:
			if err = f.want(protowire.VarintType); err == nil {
				cv.institution = f.varint
			}
		case cfConsent, cfStopped:
			if err = f.want(protowire.VarintType); err == nil {
				if f.num == cfConsent {
					cv.consent = f.varint != 0
				} else {
					cv.stopped = f.varint != 0
				}
			}
		case cfUnreachable:
			var m []byte
			if err = bytesField(&m); err == nil {
				var a []byte
				if a, err = unreachableAddress(m); err == nil {
					cv.unreachable = append(cv.unreachable, a)
				}
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// unreachableAddress returns the address of an unreachable entry.
func unreachableAddress(m []byte) ([]byte, error) {
	var a []byte
	for len(m) > 0 {
		f, rest, err := nextField(m)
		if err != nil {
			return nil, err
		}
		m = rest
		if f.num == 1 {
			if err := f.want(protowire.BytesType); err != nil {
				return nil, err
			}
			a = f.bytes
		}
	}
	return a, nil
}

// usable calls fn with the channel and ID of each address a message can go
// to, in order: a well-formed address not marked unreachable. It stops when
// fn returns false.
func (cv *contactView) usable(fn func(channel, id []byte) bool) {
	for _, a := range cv.addrs {
		ch, id, ok := bytes.Cut(a, []byte{':'})
		if !ok || len(ch) == 0 || len(id) == 0 {
			continue
		}
		gone := false
		for _, u := range cv.unreachable {
			if bytes.Equal(u, a) {
				gone = true
				break
			}
		}
		if !gone && !fn(ch, id) {
			return
		}
	}
}

// reachable reports whether the person counts for audiences at all:
// consent, no /stop, and an address to reach them at.
func (cv *contactView) reachable() bool {
	if !cv.consent || cv.stopped {
		return false
	}
	found := false
	cv.usable(func(_, _ []byte) bool { found = true; return false })
	return found
}

// signature appends the reach signature to dst: the preferred channel, then
// each channel of a usable address once, in order, each as (uvarint length ‖ name).
func (cv *contactView) signature(dst []byte) []byte {
	dst = appendPart(dst, cv.pref)
	start := len(dst)
	cv.usable(func(ch, _ []byte) bool {
		if !hasPart(dst[start:], ch) {
			dst = appendPart(dst, ch)
		}
		return true
	})
	return dst
}

func appendPart(dst, p []byte) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(p))), p...)
}

// parts splits a signature into its parts; ok is false for a malformed one.
func parts(sig []byte, fn func(p []byte)) (ok bool) {
	for len(sig) > 0 {
		n, m := binary.Uvarint(sig)
		if m <= 0 || uint64(len(sig)-m) < n {
			return false
		}
		fn(sig[m : m+int(n)])
		sig = sig[m+int(n):]
	}
	return true
}

func hasPart(sig, p []byte) bool {
	found := false
	parts(sig, func(q []byte) { found = found || bytes.Equal(p, q) })
	return found
}

// pickChannel is the channel ReachableAddress picks for a person of
// signature sig: the preferred one if usable and configured, else the first
// configured one.
func pickChannel(sig []byte, test channelTest) (ch []byte, ok bool) {
	var pref, first []byte
	i := 0
	var prefUsable bool
	well := parts(sig, func(p []byte) {
		switch {
		case i == 0:
			pref = p
		case len(p) > 0 && configured(test, p):
			if first == nil {
				first = p
			}
			if bytes.Equal(p, pref) {
				prefUsable = true
			}
		}
		i++
	})
	switch {
	case !well:
		return nil, false
	case prefUsable && len(pref) > 0:
		return pref, true
	}
	return first, first != nil
}

// segments appends the attribute segments of a reachable person to dst:
// everyone, members, governorate, language.
func (cv *contactView) segments(dst [][]byte) [][]byte {
	dst = append(dst, segment(segEveryone, nil))
	if cv.institution != 0 {
		dst = append(dst, segment(segMembers, nil))
	}
	if len(cv.gov) > 0 {
		dst = append(dst, segment(segGovernorate, cv.gov))
	}
	return append(dst, segment(segLang, []byte(langOfBytes(cv.lang))))
}

// langOfBytes is langOf of a stored language.
func langOfBytes(lang []byte) string {
	if len(lang) == 2 && (lang[0] == 'a' && lang[1] == 'r') {
		return "ar"
	}
	if len(lang) == 2 && lang[0] == 'e' && lang[1] == 'n' {
		return "en"
	}
	return langOf(string(lang))
}

// facts are what one person adds to the counters: nothing unless they are
// reachable; else one in each of their attribute segments under their
// signature.
type facts struct {
	reachable bool
	sig       []byte
	segs      [][]byte
}

// factsOf reads the facts of a stored contact; nil (no contact) has none.
func factsOf(v []byte) (facts, error) {
	if v == nil {
		return facts{}, nil
	}
	var cv contactView
	if err := viewContact(v, &cv); err != nil {
		return facts{}, err
	}
	if !cv.reachable() {
		return facts{}, nil
	}
	return facts{reachable: true, sig: cv.signature(nil), segs: cv.segments(nil)}, nil
}

func (f facts) sameReach(g facts) bool {
	return f.reachable == g.reachable && bytes.Equal(f.sig, g.sig)
}

// reindex moves the counters of contact id from its stored form old to new
// (nil for none: a new or a deleted contact), inside tx.
func reindex(tx *bbolt.Tx, id uint64, old, new []byte) error {
	of, err := factsOf(old)
	if err != nil {
		return fmt.Errorf("contact %d as it was: %w", id, err)
	}
	nf, err := factsOf(new)
	if err != nil {
		return fmt.Errorf("contact %d: %w", id, err)
	}
	counts := tx.Bucket(bucketAudienceCounts)
	if of.sameReach(nf) {
		if !of.reachable {
			return nil
		}
		// the same person differently placed: only the attribute segments move
		for _, s := range of.segs {
			if !containsSegment(nf.segs, s) {
				if err := addCount(counts, s, of.sig, -1); err != nil {
					return err
				}
			}
		}
		for _, s := range nf.segs {
			if !containsSegment(of.segs, s) {
				if err := addCount(counts, s, nf.sig, 1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	rel, err := relationSegments(tx, id)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		facts
		delta int64
	}{{of, -1}, {nf, 1}} {
		if !f.reachable {
			continue
		}
		for _, segs := range [][][]byte{f.segs, rel} {
			for _, s := range segs {
				if err := addCount(counts, s, f.sig, f.delta); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func containsSegment(segs [][]byte, s []byte) bool {
	for _, t := range segs {
		if bytes.Equal(t, s) {
			return true
		}
	}
	return false
}

// relationSegments returns the relation segments contact id belongs to.
func relationSegments(tx *bbolt.Tx, id uint64) ([][]byte, error) {
	var out [][]byte
	for _, r := range relations() {
		owners, err := r.owners(tx, id)
		if err != nil {
			return nil, fmt.Errorf("relations of contact %d: %w", id, err)
		}
		for _, o := range owners {
			out = append(out, segment(r.tag, o))
		}
	}
	return out, nil
}

// joinRelation counts contact id in the segment of (tag, owner), inside the
// transaction that wrote the pair: a pledge, a sign-up, a place on a list.
func joinRelation(tx *bbolt.Tx, tag byte, owner []byte, id uint64) error {
	return moveRelation(tx, tag, owner, id, 1)
}

// leaveRelation undoes joinRelation, inside the transaction that deleted the pair.
func leaveRelation(tx *bbolt.Tx, tag byte, owner []byte, id uint64) error {
	return moveRelation(tx, tag, owner, id, -1)
}

func moveRelation(tx *bbolt.Tx, tag byte, owner []byte, id uint64, delta int64) error {
	f, err := factsOf(tx.Bucket(bucketContacts).Get(itob(id)))
	if err != nil {
		return fmt.Errorf("contact %d: %w", id, err)
	}
	if !f.reachable {
		return nil
	}
	return addCount(tx.Bucket(bucketAudienceCounts), segment(tag, owner), f.sig, delta)
}

// addCount changes one counter by delta, deleting it at zero. A counter
// that would fall below zero is out of step with the records (Check says
// so, RecountAudiences puts it right): it stays at zero, as the change that
// found it, a person's /stop say, must not fail for a count.
func addCount(counts *bbolt.Bucket, seg, sig []byte, delta int64) error {
	key := countKey(seg, sig)
	if n := int64(btoi(counts.Get(key))) + delta; n > 0 {
		return counts.Put(key, itob(uint64(n)))
	}
	return counts.Delete(key)
}

// RecountAudiences counts the audiences afresh from the contacts, pledges
// and sign-ups and replaces the counters with the result, in one
// transaction: the repair for counters Check finds out of step.
func (s *Store) RecountAudiences(ctx context.Context) error {
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		built, err := buildCounts(tx)
		if err != nil {
			return err
		}
		return replaceCounts(tx, built)
	})
	if err != nil {
		return fmt.Errorf("recounting the audiences: %w", err)
	}
	return nil
}

// replaceCounts makes the counters exactly counts, inside tx.
func replaceCounts(tx *bbolt.Tx, counts map[string]uint64) error {
	if tx.Bucket(bucketAudienceCounts) != nil {
		if err := tx.DeleteBucket(bucketAudienceCounts); err != nil {
			return err
		}
	}
	b, err := tx.CreateBucket(bucketAudienceCounts)
	if err != nil {
		return err
	}
	for k, n := range counts {
		if err := b.Put([]byte(k), itob(n)); err != nil {
			return err
		}
	}
	return nil
}

// buildCounts counts every reachable person from the records, inside tx:
// what the counters must hold. The migration stores it; Check compares.
func buildCounts(tx *bbolt.Tx) (map[string]uint64, error) {
	counts := map[string]uint64{}
	sigs := map[uint64][]byte{} // reachable contacts' signatures, for the relations
	var cv contactView
	err := tx.Bucket(bucketContacts).ForEach(func(k, v []byte) error {
		if err := viewContact(v, &cv); err != nil {
			return fmt.Errorf("contact %d: %w", btoi(k), err)
		}
		if !cv.reachable() {
			return nil
		}
		sig := cv.signature(nil)
		sigs[btoi(k)] = sig
		for _, s := range cv.segments(nil) {
			counts[string(countKey(s, sig))]++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, r := range relations() {
		pairs := tx.Bucket(r.pairs)
		if pairs == nil {
			continue
		}
		err := pairs.ForEach(func(k, v []byte) error {
			if len(k) < 8 {
				return nil // Check reports malformed keys of its own
			}
			sig, ok := sigs[btoi(k[len(k)-8:])]
			if !ok {
				return nil // anonymous, or not reachable
			}
			if r.counts != nil {
				if yes, err := r.counts(k, v); err != nil || !yes {
					return err
				}
			}
			counts[string(countKey(segment(r.tag, k[:len(k)-8]), sig))]++
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return counts, nil
}

// audienceSegments names the counters of an audience: the sum of plus's
// counters, less minus's (the people who have not pledged are everyone less
// those who have). counted is false for an audience the counters do not
// keep: one with a detail beyond the kind's own, such as a field added to
// Audience later that narrows it, is counted by listing until it has
// counters of its own.
func audienceSegments(aud Audience) (plus, minus []byte, counted bool) {
	// the details of other kinds are ignored, as listing ignores them (a
	// broadcast about a campaign carries its ID whatever its audience)
	rest := aud
	rest.Kind, rest.Governorate, rest.Lang, rest.CampaignID, rest.Institution = "", "", "", 0, 0
	if rest != (Audience{}) {
		return nil, nil, false
	}
	if aud.Institution != 0 {
		// an institution's list is counted whole; a part of it (its
		// supporters in one governorate, say) is an intersection of two
		// segments, which the counters cannot give
		if aud.Kind != AudienceEveryone {
			return nil, nil, false
		}
		return segment(segSupporters, itob(aud.Institution)), nil, true
	}
	switch aud.Kind {
	case AudienceMembers:
		return segment(segMembers, nil), nil, true
	case AudienceGovernorate:
		return segment(segGovernorate, []byte(aud.Governorate)), nil, true
	case AudienceLang:
		return segment(segLang, []byte(aud.Lang)), nil, true
	case AudiencePledgers:
		return segment(segPledged, itob(aud.CampaignID)), nil, true
	case AudienceSignups:
		return segment(segSignedUp, itob(aud.CampaignID)), nil, true
	case AudienceNotPledged:
		return segment(segEveryone, nil), segment(segPledged, itob(aud.CampaignID)), true
	case AudienceEveryone:
		return segment(segEveryone, nil), nil, true
	}
	return nil, nil, false
}

// channelTest says whether a channel, named by its bytes, is one to
// reach people on, and gives its name.
type channelTest func(ch []byte) (bot.ChannelName, bool)

// channelFilter makes channelOK (nil accepts all) a channelTest that
// remembers its answers, so a pass over many people asks once per channel
// and makes one string of each channel's name.
func channelFilter(channelOK func(bot.ChannelName) bool) channelTest {
	type answer struct {
		name bot.ChannelName
		ok   bool
	}
	known := map[string]answer{}
	return func(ch []byte) (bot.ChannelName, bool) {
		a, seen := known[string(ch)]
		if !seen {
			a.name = bot.ChannelName(ch)
			a.ok = channelOK == nil || channelOK(a.name)
			known[string(ch)] = a
		}
		return a.name, a.ok
	}
}

// countSegment adds sign times seg's counters to perChannel, by the channel
// each signature picks.
func countSegment(counts *bbolt.Bucket, seg []byte, test channelTest, sign int, perChannel map[bot.ChannelName]int) {
	prefix := segmentPrefix(seg)
	c := counts.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if ch, found := pickChannel(k[len(prefix):], test); found {
			name, _ := test(ch)
			perChannel[name] += sign * int(btoi(v))
		}
	}
}

// configured reports whether test accepts channel ch.
func configured(test channelTest, ch []byte) bool {
	_, ok := test(ch)
	return ok
}
