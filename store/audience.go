package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"mobilise/bot"

	"go.etcd.io/bbolt"
)

// AudienceKind names a group of people a broadcast or reminder goes to.
type AudienceKind string

// The audiences. Every one is limited to people who consented and have not
// said /stop.
const (
	// AudienceEveryone is everyone who consented.
	AudienceEveryone AudienceKind = "everyone"
	// AudienceMembers is the people who represent a member institution:
	// their institution was approved (Contact.InstitutionID is set). The
	// coalition's coordinators and admins are not in it for their role alone.
	AudienceMembers AudienceKind = "members"
	// AudienceGovernorate is people of Audience.Governorate.
	AudienceGovernorate AudienceKind = "governorate"
	// AudienceLang is people whose language is Audience.Lang.
	AudienceLang AudienceKind = "lang"
	// AudiencePledgers is people who pledged to Audience.CampaignID.
	AudiencePledgers AudienceKind = "pledgers"
	// AudienceSignups is people signed up for Audience.CampaignID's event.
	AudienceSignups AudienceKind = "signups"
	// AudienceNotPledged is people who have not pledged to Audience.CampaignID.
	AudienceNotPledged AudienceKind = "not_pledged"
	// AudiencePollAnswer is people whose answer to Audience.PollID is
	// Audience.Option now: a prefix scan of the poll's answers (polls.go).
	AudiencePollAnswer AudienceKind = "poll_answer"
)

// Audience says who a broadcast or reminder goes to.
type Audience struct {
	Kind        AudienceKind `json:"kind"`
	Governorate string       `json:"governorate,omitempty"`
	// Lang is "ar" or "en".
	Lang       string `json:"lang,omitempty"`
	CampaignID uint64 `json:"campaign_id,omitempty"`
	// PollID and Option (an index) name a poll's answer.
	PollID uint64 `json:"poll_id,omitempty"`
	Option int    `json:"option,omitempty"`
	// Institution, when set, keeps only that member institution's
	// supporters (supporters.go) of whoever the kind selects.
	Institution uint64 `json:"institution,omitempty"`
}

// Validate checks that the audience names a known kind with the detail it needs.
func (a Audience) Validate() error {
	switch a.Kind {
	case AudienceEveryone, AudienceMembers:
	case AudienceGovernorate:
		if a.Governorate == "" {
			return errors.New("audience governorate: no governorate")
		}
	case AudienceLang:
		if a.Lang != "ar" && a.Lang != "en" {
			return fmt.Errorf("audience lang: language %q is not ar or en", a.Lang)
		}
	case AudiencePledgers, AudienceSignups, AudienceNotPledged:
		if a.CampaignID == 0 {
			return fmt.Errorf("audience %s: no campaign", a.Kind)
		}
	case AudiencePollAnswer:
		if a.PollID == 0 || a.Option < 0 || a.Option >= MaxPollOptions {
			return fmt.Errorf("audience %s: poll %d option %d", a.Kind, a.PollID, a.Option)
		}
	default:
		return fmt.Errorf("unknown audience %q", a.Kind)
	}
	return nil
}

// Recipient is one person an audience reaches, at one address.
type Recipient struct {
	ContactID uint64
	// Address is where the message goes.
	Address bot.Address
	// Lang is "en" for people whose language is English and "ar" for
	// everyone else, as messages.NormalizeLang reads it.
	Lang string
	Name string
}

// Channel returns the channel of the recipient's address.
func (r Recipient) Channel() bot.ChannelName { return r.Address.Channel }

// ReachableAddress picks where a message to c goes: the address on the
// PreferredChannel if it can be used, else the first usable one. An address
// is usable unless it is marked Unreachable or its channel fails channelOK
// (nil accepts every channel).
func (c *Contact) ReachableAddress(channelOK func(channel bot.ChannelName) bool) (bot.Address, bool) {
	return reachableAddress(c.Addresses, c.Unreachable, c.PreferredChannel, channelOK)
}

func reachableAddress(addrs []bot.Address, unreachable map[bot.Address]time.Time, preferred bot.ChannelName, channelOK func(bot.ChannelName) bool) (bot.Address, bool) {
	var best bot.Address
	for _, a := range addrs {
		if a.Channel == "" || a.ID == "" {
			continue
		}
		if _, gone := unreachable[a]; gone {
			continue
		}
		if channelOK != nil && !channelOK(a.Channel) {
			continue
		}
		if a.Channel == preferred {
			return a, true
		}
		if best.IsZero() {
			best = a
		}
	}
	return best, !best.IsZero()
}

// langOf reads a stored language as messages.NormalizeLang does: English or
// Arabic, the default. (store sits below messages, so it cannot call it.)
func langOf(lang string) string {
	l := strings.ToLower(strings.TrimSpace(lang))
	if l == "en" || l == "eng" || strings.HasPrefix(l, "en-") || strings.HasPrefix(l, "en_") {
		return "en"
	}
	return "ar"
}

// AudienceCount is how many people an audience reaches, as Recipients would
// list them.
type AudienceCount struct {
	Total int
	// PerChannel is how many of them each channel reaches; channels that
	// reach nobody are absent.
	PerChannel map[bot.ChannelName]int
}

// CountAudience counts the people aud reaches, per channel, as Recipients
// would list them, from the audience counters: a few keys read, however
// many people there are. channelOK is as for Recipients. An audience the
// counters do not keep (one narrowed by a detail audienceSegments does not
// know) is counted by listing it.
func (s *Store) CountAudience(ctx context.Context, aud Audience, channelOK func(channel bot.ChannelName) bool) (AudienceCount, error) {
	if err := aud.Validate(); err != nil {
		return AudienceCount{}, fmt.Errorf("counting recipients: %w", err)
	}
	out := AudienceCount{PerChannel: map[bot.ChannelName]int{}}
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		if err := audienceCampaign(tx, aud); err != nil {
			return err
		}
		ok := channelFilter(channelOK)
		plus, minus, counted := audienceSegments(aud)
		if !counted {
			// an audience the counters do not keep is counted by listing it
			_, _, err := listRecipients(tx, aud, ok, 0, 0, func(r Recipient) { out.PerChannel[r.Address.Channel]++ })
			return err
		}
		counts := tx.Bucket(bucketAudienceCounts)
		countSegment(counts, plus, ok, 1, out.PerChannel)
		if minus != nil {
			countSegment(counts, minus, ok, -1, out.PerChannel)
		}
		return nil
	})
	if err != nil {
		return AudienceCount{}, fmt.Errorf("counting recipients for %s: %w", aud.Kind, err)
	}
	for ch, n := range out.PerChannel {
		if n <= 0 {
			delete(out.PerChannel, ch)
			continue
		}
		out.Total += n
	}
	return out, nil
}

// audienceCampaign checks that the campaign of a campaign's audience exists.
func audienceCampaign(tx *bbolt.Tx, aud Audience) error {
	switch aud.Kind {
	case AudiencePledgers, AudienceSignups, AudienceNotPledged:
		if tx.Bucket(bucketCampaigns).Get(itob(aud.CampaignID)) == nil {
			return ErrCampaignNotFound
		}
	}
	return nil
}

// Recipients returns the people aud reaches, in contact ID order, one
// recipient per person however many channels they use: only people who
// consented and have not said /stop, at the address ReachableAddress picks
// (people with none are left out). channelOK says which channels are
// configured; nil accepts all. The members are the representatives of
// member institutions, whatever their role. An audience limited to an
// institution's supporters (Audience.Institution) keeps only the people on
// its list now. It reads everything in one transaction, so the list is one
// consistent moment.
func (s *Store) Recipients(ctx context.Context, aud Audience, channelOK func(channel bot.ChannelName) bool) ([]Recipient, error) {
	page, err := s.RecipientsPage(ctx, aud, channelOK, 0, 0)
	return page.Recipients, err
}

// RecipientPage is part of an audience, in contact ID order.
type RecipientPage struct {
	Recipients []Recipient
	// Through is the highest contact ID the page covers: the next page
	// starts above it.
	Through uint64
	// Last is set when no one above Through is in the audience.
	Last bool
}

// RecipientsPage returns up to limit of the people Recipients would list
// with contact IDs above after (limit 0: all of them), from one read
// transaction. Paging through an audience this way, each page read
// when it is needed, is how a broadcast to a hundred thousand people is
// queued without holding them all in memory (QueueBroadcastStream).
func (s *Store) RecipientsPage(ctx context.Context, aud Audience, channelOK func(channel bot.ChannelName) bool, after uint64, limit int) (RecipientPage, error) {
	if err := aud.Validate(); err != nil {
		return RecipientPage{}, fmt.Errorf("selecting recipients: %w", err)
	}
	var page RecipientPage
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		page = RecipientPage{}
		var err error
		page.Through, page.Last, err = listRecipients(tx, aud, channelFilter(channelOK), after, limit, func(r Recipient) {
			page.Recipients = append(page.Recipients, r)
		})
		return err
	})
	if err != nil {
		return RecipientPage{}, fmt.Errorf("selecting recipients for %s: %w", aud.Kind, err)
	}
	return page, nil
}

// listRecipients calls fn for each person of aud with a contact ID above
// after, in ID order, up to limit of them (0: no limit), inside tx. It
// returns the highest ID it covered and whether it reached the end.
func listRecipients(tx *bbolt.Tx, aud Audience, ok channelTest, after uint64, limit int, fn func(Recipient)) (through uint64, last bool, err error) {
	if err := audienceCampaign(tx, aud); err != nil {
		return after, false, err
	}
	through = after
	if after == ^uint64(0) {
		return through, true, nil
	}
	contacts := tx.Bucket(bucketContacts)
	supporters := tx.Bucket(bucketSupporters)
	// listed says whether a person of a campaign's or a poll's scan is on
	// the list the audience is limited to, if any
	listed := func(id []byte) (bool, error) {
		if aud.Institution == 0 {
			return true, nil
		}
		return onList(supporters, aud.Institution, btoi(id))
	}
	n := 0
	var cv contactView
	// consider offers contact k, stored as v, and reports whether the page is full
	consider := func(k, v []byte) (bool, error) {
		id := btoi(k)
		through = id
		if err := viewContact(v, &cv); err != nil {
			return false, fmt.Errorf("contact %d: %w", id, err)
		}
		if !cv.consent || cv.stopped || !cv.matches(aud) {
			return false, nil
		}
		r, found := cv.recipient(id, ok)
		if !found {
			return false, nil
		}
		fn(r)
		n++
		return limit > 0 && n >= limit, nil
	}
	switch {
	case aud.Kind == AudiencePledgers || aud.Kind == AudienceSignups:
		bucket := bucketPledges
		if aud.Kind == AudienceSignups {
			bucket = bucketSignups
		}
		c := tx.Bucket(bucket).Cursor()
		for k, _ := c.Seek(pairKey(aud.CampaignID, after+1)); k != nil && len(k) == 16 && btoi(k[:8]) == aud.CampaignID; k, _ = c.Next() {
			if !isContactID(btoi(k[8:])) {
				break // anonymous pledges sort after every contact
			}
			v := contacts.Get(k[8:])
			if v == nil {
				continue
			}
			if on, err := listed(k[8:]); err != nil || !on {
				if err != nil {
					return through, false, err
				}
				continue
			}
			if full, err := consider(k[8:], v); err != nil || full {
				return through, false, err
			}
		}
		return through, true, nil
	case aud.Kind == AudiencePollAnswer:
		if tx.Bucket(bucketPolls).Get(itob(aud.PollID)) == nil {
			return after, false, fmt.Errorf("poll %d: %w", aud.PollID, ErrNotFound)
		}
		prefix := optionPrefix(aud.PollID, aud.Option)
		c := tx.Bucket(bucketPollAnswers).Cursor()
		for k, _ := c.Seek(append(bytes.Clone(prefix), itob(after+1)...)); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if len(k) != len(prefix)+8 || !isContactID(btoi(k[len(prefix):])) {
				break // anonymous answers sort after every contact
			}
			id := k[len(prefix):]
			v := contacts.Get(id)
			if v == nil {
				continue
			}
			if on, err := listed(id); err != nil || !on {
				if err != nil {
					return through, false, err
				}
				continue
			}
			if full, err := consider(id, v); err != nil || full {
				return through, false, err
			}
		}
		return through, true, nil
	case aud.Institution != 0:
		// everyone else of the kind, read from the institution's list rather
		// than from every contact: a prefix scan in contact ID order
		pledges := tx.Bucket(bucketPledges)
		prefix := itob(aud.Institution)
		c := supporters.Cursor()
		for k, v := c.Seek(pairKey(aud.Institution, after+1)); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(k) != 16 {
				continue // Check reports it
			}
			active, err := activeSupport(k, v)
			if err != nil {
				return through, false, err
			}
			id := k[8:]
			if !active || (aud.Kind == AudienceNotPledged && pledges.Get(pairKey(aud.CampaignID, btoi(id))) != nil) {
				continue
			}
			rec := contacts.Get(id)
			if rec == nil {
				continue
			}
			if full, err := consider(id, rec); err != nil || full {
				return through, false, err
			}
		}
		return through, true, nil
	case aud.Kind == AudienceNotPledged:
		pledged := tx.Bucket(bucketPledges).Cursor()
		pk, _ := pledged.Seek(pairKey(aud.CampaignID, after+1))
		c := contacts.Cursor()
		for k, v := c.Seek(itob(after + 1)); k != nil; k, v = c.Next() {
			id := btoi(k)
			// the campaign's pledges and the contacts both ascend: walk them side by side
			for pk != nil && len(pk) == 16 && btoi(pk[:8]) == aud.CampaignID && btoi(pk[8:]) < id {
				pk, _ = pledged.Next()
			}
			if pk != nil && len(pk) == 16 && btoi(pk[:8]) == aud.CampaignID && btoi(pk[8:]) == id {
				through = id
				continue
			}
			if full, err := consider(k, v); err != nil || full {
				return through, false, err
			}
		}
		return through, true, nil
	default:
		c := contacts.Cursor()
		for k, v := c.Seek(itob(after + 1)); k != nil; k, v = c.Next() {
			if full, err := consider(k, v); err != nil || full {
				return through, false, err
			}
		}
		return through, true, nil
	}
}

// matches applies the kind's own condition; campaign kinds are decided by
// the caller's scan.
func (cv *contactView) matches(aud Audience) bool {
	switch aud.Kind {
	case AudienceMembers:
		return cv.institution != 0
	case AudienceGovernorate:
		return string(cv.gov) == aud.Governorate
	case AudienceLang:
		return langOfBytes(cv.lang) == aud.Lang
	default:
		return true
	}
}

// recipient is the person as a Recipient at the address ReachableAddress
// picks, if there is one.
func (cv *contactView) recipient(id uint64, test channelTest) (Recipient, bool) {
	var ch bot.ChannelName
	var addr []byte
	cv.usable(func(c, a []byte) bool {
		name, ok := test(c)
		if !ok {
			return true
		}
		if bytes.Equal(c, cv.pref) {
			ch, addr = name, a
			return false
		}
		if addr == nil {
			ch, addr = name, a
		}
		return true
	})
	if addr == nil {
		return Recipient{}, false
	}
	return Recipient{
		ContactID: id, Address: bot.Address{Channel: ch, ID: string(addr)},
		Lang: langOfBytes(cv.lang), Name: string(cv.name),
	}, true
}
