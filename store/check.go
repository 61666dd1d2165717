package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"go.etcd.io/bbolt"

	"mobilise/bot"
)

// maxProblems bounds what Check reports of a badly damaged file.
const maxProblems = 50

// Check verifies the file in one read transaction: bbolt's page structure,
// that every index entry and its record agree both ways, that every pledge
// and sign-up belongs to an existing campaign and contact (or is anonymous),
// that each campaign's counters equal its records, and that the audience
// counters equal a count of the people made afresh. It returns nil or all
// problems found, joined (at most 50).
func (s *Store) Check() error {
	var problems []error
	report := func(format string, args ...any) {
		if len(problems) < maxProblems {
			problems = append(problems, fmt.Errorf(format, args...))
		}
	}
	err := s.view(func(tx *bbolt.Tx) error {
		for _, err := range collect(tx.Check()) {
			report("pages: %w", checkProblem(err))
		}
		checkContacts(tx, report)
		checkAudienceCounts(tx, report)
		checkCampaigns(tx, report)
		checkPairs(tx, bucketPledges, true, report)
		checkPairs(tx, bucketSignups, false, report)
		checkOutbox(tx, report)
		checkReminders(tx, report)
		checkPolls(tx, report)
		checkInstitutionLinks(tx, report)
		return tx.Bucket(bucketSessions).ForEach(func(k, _ []byte) error {
			if tx.Bucket(bucketContacts).Get(k) == nil {
				report("session of missing contact %d", btoi(k))
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("checking %s: %w", s.path, err)
	}
	return errors.Join(problems...)
}

type reportFunc func(format string, args ...any)

func checkContacts(tx *bbolt.Tx, report reportFunc) {
	contacts, addrs, codes := tx.Bucket(bucketContacts), tx.Bucket(bucketAddresses), tx.Bucket(bucketRefCodes)
	_ = contacts.ForEach(func(k, v []byte) error {
		var c Contact
		if len(k) != 8 {
			report("contacts key %x is not 8 bytes", k)
			return nil
		}
		if err := decodeContact(btoi(k), v, &c); err != nil {
			report("contact %d: %w", btoi(k), err)
			return nil
		}
		for _, a := range c.Addresses {
			if !bytes.Equal(addrs.Get(addrKey(a)), k) {
				report("address %s of contact %d is indexed to %d", a, c.ID, btoi(addrs.Get(addrKey(a))))
			}
		}
		if !bytes.Equal(codes.Get([]byte(c.RefCode)), k) {
			report("share code %q of contact %d is indexed to %d", c.RefCode, c.ID, btoi(codes.Get([]byte(c.RefCode))))
		}
		return nil
	})
	_ = addrs.ForEach(func(k, v []byte) error {
		var c Contact
		if err := getContact(contacts, v, &c); err != nil {
			report("address %s: contact %d: %w", k, btoi(v), err)
		} else if a, perr := bot.ParseAddress(string(k)); perr != nil || !slices.Contains(c.Addresses, a) {
			report("address %s is indexed to contact %d, which does not list it", k, c.ID)
		}
		return nil
	})
	_ = codes.ForEach(func(k, v []byte) error {
		if contacts.Get(v) == nil {
			report("share code %q is indexed to missing contact %d", k, btoi(v))
		}
		return nil
	})
}

func checkCampaigns(tx *bbolt.Tx, report reportFunc) {
	campaigns, codes := tx.Bucket(bucketCampaigns), tx.Bucket(bucketCampaignCodes)
	_ = campaigns.ForEach(func(k, v []byte) error {
		var c Campaign
		if err := json.Unmarshal(v, &c); err != nil {
			report("campaign %d: %w", btoi(k), err)
			return nil
		}
		if !bytes.Equal(codes.Get([]byte(c.Code)), k) {
			report("code %q of campaign %d is indexed to %d", c.Code, c.ID, btoi(codes.Get([]byte(c.Code))))
		}
		counted, err := readCounts(tx, c.ID)
		if err != nil {
			report("counters of campaign %d: %w", c.ID, err)
			return nil
		}
		actual := Counts{Pledges: countPrefix(tx.Bucket(bucketPledges), k), Signups: countPrefix(tx.Bucket(bucketSignups), k)}
		if counted != actual {
			report("campaign %d counters say %+v, records %+v", c.ID, counted, actual)
		}
		return nil
	})
	_ = codes.ForEach(func(k, v []byte) error {
		if campaigns.Get(v) == nil {
			report("campaign code %q is indexed to missing campaign %d", k, btoi(v))
		}
		return nil
	})
}

// checkPairs checks the (campaign ‖ contact) keys of pledges or sign-ups
// against the records and the campaigns and contacts they name.
func checkPairs(tx *bbolt.Tx, bucket []byte, anonAllowed bool, report reportFunc) {
	campaigns, contacts := tx.Bucket(bucketCampaigns), tx.Bucket(bucketContacts)
	_ = tx.Bucket(bucket).ForEach(func(k, v []byte) error {
		if len(k) != 16 {
			report("%s key %x is not 16 bytes", bucket, k)
			return nil
		}
		cid, pid := binary.BigEndian.Uint64(k), binary.BigEndian.Uint64(k[8:])
		var rec struct {
			CampaignID uint64 `json:"campaign_id"`
			ContactID  uint64 `json:"contact_id"`
		}
		if err := json.Unmarshal(v, &rec); err != nil {
			report("%s %x: %w", bucket, k, err)
			return nil
		}
		// a record leaves its IDs to the key; one written before says them
		if campaigns.Get(k[:8]) == nil || (rec.CampaignID != 0 && rec.CampaignID != cid) {
			report("%s %x: campaign %d (record says %d) is missing", bucket, k, cid, rec.CampaignID)
		}
		switch {
		case pid&anonBit != 0:
			if !anonAllowed || rec.ContactID != 0 {
				report("%s %x: anonymous key with contact %d", bucket, k, rec.ContactID)
			}
		case (rec.ContactID != 0 && rec.ContactID != pid) || contacts.Get(k[8:]) == nil:
			report("%s %x: contact %d (record says %d) is missing", bucket, k, pid, rec.ContactID)
		}
		return nil
	})
}

func countPrefix(b *bbolt.Bucket, prefix []byte) int {
	n := 0
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		n++
	}
	return n
}

// jsonBuckets are the buckets whose values are all JSON records (the schema
// in buckets.go); contacts are binary records with a checksum of their own
// (contactcodec.go); the others hold IDs, counts or nothing.
var jsonBuckets = []string{
	"institutions", "campaigns", "pledges", "signups", "counters", "sessions", "audit",
	"outbox", "broadcasts", "reminders", "polls", "poll_answers", "poll_counts",
	"institution_people", "supporters", "media_uploads",
}

// checkFile checks the database file at path, read-only and before the store
// opens it for writing, so a damaged file is refused at start-up with
// ErrCorrupt instead of panicking later inside bbolt, on the first message
// that reaches the damaged page. It checks
//
//   - the page structure, with bbolt's tx.Check: every page reachable from
//     the root has the ID and type its parent expects and is referenced once,
//     keys are in order, and every page is either reachable or free;
//   - that every record of a JSON bucket is valid JSON, and every contact
//     carries its checksum: a damaged page that continues a large record (an
//     overflow page) has no header of its own, so tx.Check cannot see it.
//
// The file is first read through once, in order: the check then finds its
// pages in the page cache instead of reading them one at a time in tree
// order, which on a cold cache is more than ten times slower: at 200,000
// contacts (a 334 MB file, BenchmarkCheckAtOpen) the check takes 0.5 s
// after a reboot instead of 6 s, and 0.2 s at a restart.
func checkFile(path string) error {
	db, err := openBolt(path, &bbolt.Options{ReadOnly: true, Timeout: lockTimeout})
	if err != nil {
		return err
	}
	err = errors.Join(warm(path), checkDB(db))
	return errors.Join(err, db.Close())
}

// warm reads the file at path once, in order, into the page cache.
func warm(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	_, err = io.CopyBuffer(io.Discard, f, make([]byte, 1<<20))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}

// checkDB runs checkFile's checks on db, which nobody writes to meanwhile
// (tx.Check on a read-only handle reads pages without caching them, and
// needs that). Problems give an error wrapping ErrCorrupt.
func checkDB(db *bbolt.DB) (err error) {
	var problems []error
	defer func() {
		if r := recover(); r != nil {
			problems = append(problems, fmt.Errorf("unreadable page: %v", r))
		}
		if len(problems) > 0 {
			err = corruptError(problems)
		}
	}()
	return db.View(func(tx *bbolt.Tx) error {
		for _, err := range collect(tx.Check()) {
			if len(problems) < maxProblems {
				problems = append(problems, checkProblem(err))
			}
		}
		if len(problems) > 0 {
			// the records would be read through the same damaged pages
			return nil
		}
		problems = append(problems, checkRecords(tx)...)
		return nil
	})
}

// checkProblem words a problem tx.Check found. Check recovers the panics
// of the pages it cannot read and reports them as "panic: …": that reads
// like a crash to the person restoring the file, and is not one.
func checkProblem(err error) error {
	if msg, ok := strings.CutPrefix(err.Error(), "panic: "); ok {
		return fmt.Errorf("unreadable page: %s", msg)
	}
	return err
}

// checkRecords reports the records of the JSON buckets that are not JSON.
func checkRecords(tx *bbolt.Tx) []error {
	var problems []error
	names := jsonBuckets
	if schemaVersion(tx) < contactsBinarySince {
		names = append(slices.Clone(names), "contacts") // not yet migrated
	}
	for _, name := range names {
		b := tx.Bucket([]byte(name))
		if b == nil {
			continue // a bucket of a later schema version than the file's
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if v != nil && !plausibleRecord(v) && !json.Valid(v) {
				problems = append(problems, fmt.Errorf("bucket %s: record %x is not valid JSON", name, k))
				if len(problems) >= maxProblems {
					return problems
				}
			}
		}
	}
	if b := tx.Bucket(bucketContacts); b != nil && schemaVersion(tx) >= contactsBinarySince {
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if _, err := contactFields(v); v != nil && err != nil {
				problems = append(problems, fmt.Errorf("bucket contacts: record %x: %w", k, err))
				if len(problems) >= maxProblems {
					return problems
				}
			}
		}
	}
	return problems
}

// plausibleRecord is the fast test of checkRecords, six times faster than
// json.Valid: v is an object in valid UTF-8 without a control byte, as
// json.Marshal writes records (it escapes control characters). A record
// damaged by random bytes fails it: one byte in eight is a control byte.
// A record that fails it is still accepted if json.Valid says it is JSON.
func plausibleRecord(v []byte) bool {
	if len(v) < 2 || v[0] != '{' || v[len(v)-1] != '}' {
		return false
	}
	for _, c := range v {
		if c < 0x20 {
			return false
		}
	}
	return utf8.Valid(v)
}

// corruptError wraps ErrCorrupt with the first problem found and how many
// more there are.
func corruptError(problems []error) error {
	if len(problems) == 1 {
		return fmt.Errorf("%w: %w", ErrCorrupt, problems[0])
	}
	more := fmt.Sprintf("%d more problems", len(problems)-1)
	if len(problems) >= maxProblems {
		more = "at least " + more
	}
	return fmt.Errorf("%w: %w (and %s)", ErrCorrupt, problems[0], more)
}

// checkAudienceCounts compares the audience counters with a count made
// afresh from the contacts, pledges and sign-ups.
func checkAudienceCounts(tx *bbolt.Tx, report reportFunc) {
	counts := tx.Bucket(bucketAudienceCounts)
	if counts == nil {
		return
	}
	want, err := buildCounts(tx)
	if err != nil {
		report("counting audiences: %w", err)
		return
	}
	_ = counts.ForEach(func(k, v []byte) error {
		if n := want[string(k)]; n != btoi(v) {
			report("audience counter %x says %d, the records %d", k, btoi(v), n)
		}
		delete(want, string(k))
		return nil
	})
	for k, n := range want {
		report("audience counter %x is missing: the records count %d", k, n)
	}
}
