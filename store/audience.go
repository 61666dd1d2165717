package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/bbolt"
)

// AudienceKind names a group of people a broadcast or reminder goes to.
type AudienceKind string

// The audiences. Every one is limited to people who consented and have not
// said /stop.
const (
	// AudienceEveryone is everyone who consented.
	AudienceEveryone AudienceKind = "everyone"
	// AudienceMembers is people whose stored role is member or above.
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
)

// Audience says who a broadcast or reminder goes to.
type Audience struct {
	Kind        AudienceKind `json:"kind"`
	Governorate string       `json:"governorate,omitempty"`
	// Lang is "ar" or "en".
	Lang       string `json:"lang,omitempty"`
	CampaignID uint64 `json:"campaign_id,omitempty"`
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
	default:
		return fmt.Errorf("unknown audience %q", a.Kind)
	}
	return nil
}

// Recipient is one person an audience reaches, at one address.
type Recipient struct {
	ContactID uint64
	// Address is where the message goes: "telegram:123".
	Address string
	// Lang is "en" for people whose language is English and "ar" for
	// everyone else, as messages.NormalizeLang reads it.
	Lang string
	Name string
}

// Channel returns the channel part of the recipient's address.
func (r Recipient) Channel() string {
	ch, _, _ := strings.Cut(r.Address, ":")
	return ch
}

// ReachableAddress picks where a message to c goes: the address on the
// PreferredChannel if it can be used, else the first usable one. An address
// is usable unless it is marked Unreachable or its channel fails channelOK
// (nil accepts every channel).
func (c *Contact) ReachableAddress(channelOK func(channel string) bool) (string, bool) {
	return reachableAddress(c.Addresses, c.Unreachable, c.PreferredChannel, channelOK)
}

func reachableAddress(addrs []string, unreachable map[string]time.Time, preferred string, channelOK func(string) bool) (string, bool) {
	best := ""
	for _, a := range addrs {
		ch, id, ok := strings.Cut(a, ":")
		if !ok || ch == "" || id == "" {
			continue
		}
		if _, gone := unreachable[a]; gone {
			continue
		}
		if channelOK != nil && !channelOK(ch) {
			continue
		}
		if ch == preferred {
			return a, true
		}
		if best == "" {
			best = a
		}
	}
	return best, best != ""
}

// audienceContact is the part of a Contact audience selection reads;
// decoding only it keeps a pass over 100,000 contacts fast.
type audienceContact struct {
	ID               uint64               `json:"id"`
	Addresses        []string             `json:"addresses"`
	Name             string               `json:"name"`
	Lang             string               `json:"lang"`
	Consent          bool                 `json:"consent"`
	Stopped          bool                 `json:"stopped"`
	Governorate      string               `json:"governorate"`
	Role             Role                 `json:"role"`
	Unreachable      map[string]time.Time `json:"unreachable"`
	PreferredChannel string               `json:"preferred_channel"`
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

// Recipients returns the people aud reaches, in contact ID order, one
// recipient per person however many channels they use: only people who
// consented and have not said /stop, at the address ReachableAddress picks
// (people with none are left out). channelOK says which channels are
// configured; nil accepts all. Admins named only in the configuration are
// not members here unless their stored role says so. It reads everything in
// one transaction, so the list is one consistent moment.
func (s *Store) Recipients(aud Audience, channelOK func(channel string) bool) ([]Recipient, error) {
	if err := aud.Validate(); err != nil {
		return nil, fmt.Errorf("selecting recipients: %w", err)
	}
	var out []Recipient
	err := s.view(func(tx *bbolt.Tx) error {
		contacts := tx.Bucket(bucketContacts)
		add := func(k, v []byte) error {
			var c audienceContact
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("decoding contact %d: %w", btoi(k), err)
			}
			if !c.Consent || c.Stopped || !matches(aud, &c) {
				return nil
			}
			addr, ok := reachableAddress(c.Addresses, c.Unreachable, c.PreferredChannel, channelOK)
			if !ok {
				return nil
			}
			out = append(out, Recipient{ContactID: c.ID, Address: addr, Lang: langOf(c.Lang), Name: c.Name})
			return nil
		}
		switch aud.Kind {
		case AudiencePledgers, AudienceSignups:
			if tx.Bucket(bucketCampaigns).Get(itob(aud.CampaignID)) == nil {
				return ErrCampaignNotFound
			}
			bucket := bucketPledges
			if aud.Kind == AudienceSignups {
				bucket = bucketSignups
			}
			prefix := itob(aud.CampaignID)
			c := tx.Bucket(bucket).Cursor()
			for k, _ := c.Seek(prefix); k != nil && len(k) == 16 && btoi(k[:8]) == aud.CampaignID; k, _ = c.Next() {
				if !isContactID(btoi(k[8:])) {
					continue // anonymous pledge
				}
				if v := contacts.Get(k[8:]); v != nil {
					if err := add(k[8:], v); err != nil {
						return err
					}
				}
			}
			return nil
		case AudienceNotPledged:
			if tx.Bucket(bucketCampaigns).Get(itob(aud.CampaignID)) == nil {
				return ErrCampaignNotFound
			}
			pledges := tx.Bucket(bucketPledges)
			return contacts.ForEach(func(k, v []byte) error {
				if pledges.Get(pairKey(aud.CampaignID, btoi(k))) != nil {
					return nil
				}
				return add(k, v)
			})
		default:
			return contacts.ForEach(add)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("selecting recipients for %s: %w", aud.Kind, err)
	}
	return out, nil
}

// matches applies the kind's own condition; campaign kinds are decided by
// the caller's scan.
func matches(aud Audience, c *audienceContact) bool {
	switch aud.Kind {
	case AudienceMembers:
		return c.Role.AtLeast(RoleMember)
	case AudienceGovernorate:
		return c.Governorate == aud.Governorate
	case AudienceLang:
		return langOf(c.Lang) == aud.Lang
	default:
		return true
	}
}
