package store

import (
	"errors"
	"time"

	"mobilise/bot"
)

// Errors the store returns; callers test for them with errors.Is.
var (
	ErrNotFound         = errors.New("not found")
	ErrAlreadyPledged   = errors.New("already pledged")
	ErrAlreadySignedUp  = errors.New("already signed up")
	ErrCodeTaken        = errors.New("code taken")
	ErrCampaignNotFound = errors.New("campaign not found")
)

// Role orders what a person may do: citizen < member < coordinator < admin.
type Role string

// The roles, lowest first.
const (
	RoleCitizen     Role = "citizen"
	RoleMember      Role = "member"
	RoleCoordinator Role = "coordinator"
	RoleAdmin       Role = "admin"
)

// Rank returns the role's place in the order, so roles compare with <.
// An empty or unknown role ranks as citizen.
func (r Role) Rank() int {
	switch r {
	case RoleMember:
		return 1
	case RoleCoordinator:
		return 2
	case RoleAdmin:
		return 3
	default:
		return 0
	}
}

// AtLeast reports whether r ranks at or above min.
func (r Role) AtLeast(min Role) bool { return r.Rank() >= min.Rank() }

// Contact is one person, reachable at one or more channel addresses.
type Contact struct {
	ID uint64 `json:"id"`
	// Addresses are where the person writes from; each is indexed to this contact.
	Addresses []bot.Address `json:"addresses"`
	Name      string        `json:"name,omitempty"`
	// Lang is "ar" or "en"; empty until the person or their platform says.
	Lang string `json:"lang,omitempty"`
	// Consent is the explicit yes to receiving campaign messages.
	Consent   bool      `json:"consent,omitempty"`
	ConsentAt time.Time `json:"consent_at,omitempty"`
	// OnboardedAt is when the person finished the first conversation (language, consent, governorate).
	OnboardedAt time.Time `json:"onboarded_at,omitempty"`
	// Stopped is set by /stop and cleared by /start: no broadcast reaches them.
	Stopped     bool   `json:"stopped,omitempty"`
	Governorate string `json:"governorate,omitempty"`
	// Role is the stored role; admins named in the configuration rank as admin whatever it says.
	Role          Role   `json:"role,omitempty"`
	InstitutionID uint64 `json:"institution_id,omitempty"`
	// Affiliations are the member institutions the person acts for, with
	// their role in each; SetAffiliation keeps the institution_people index.
	Affiliations []Affiliation `json:"affiliations,omitempty"`
	// RefCode is the person's own share code, unique across contacts.
	RefCode    string `json:"ref_code"`
	ReferredBy uint64 `json:"referred_by,omitempty"`
	// Referrals counts the people who first came through this person's code.
	Referrals int `json:"referrals,omitempty"`
	// Unreachable maps an address to when a send to it failed because the
	// person blocked the bot; cleared when they write again.
	Unreachable map[bot.Address]time.Time `json:"unreachable,omitempty"`
	// PreferredChannel is where broadcasts go when the person has several addresses.
	PreferredChannel bot.ChannelName `json:"preferred_channel,omitempty"`
	CreatedAt        time.Time       `json:"created_at"`
	SeenAt           time.Time       `json:"seen_at,omitempty"`
}

// InstitutionStatus is where an institution's application stands.
type InstitutionStatus string

// The application states.
const (
	InstitutionPending  InstitutionStatus = "pending"
	InstitutionApproved InstitutionStatus = "approved"
	InstitutionRejected InstitutionStatus = "rejected"
)

// Institution is a member institution of the coalition, or an application to become one.
type Institution struct {
	ID     uint64 `json:"id"`
	NameAR string `json:"name_ar"`
	NameEN string `json:"name_en,omitempty"`
	// Field is a key from the fixed list of fields of work.
	Field string `json:"field"`
	// Governorates are keys from the fixed list of governorates.
	Governorates  []string          `json:"governorates"`
	ContactPerson string            `json:"contact_person"`
	Phone         string            `json:"phone,omitempty"`
	Email         string            `json:"email,omitempty"`
	Status        InstitutionStatus `json:"status"`
	// ApplicantID is the contact who applied; they become the institution's representative.
	ApplicantID uint64    `json:"applicant_id"`
	CreatedAt   time.Time `json:"created_at"`
	DecidedBy   uint64    `json:"decided_by,omitempty"`
	DecidedAt   time.Time `json:"decided_at,omitempty"`
	// Code is the institution's share code, set at approval and unique
	// among institutions: its link opens the bot with "i_" + Code.
	Code string `json:"code,omitempty"`
	// Listing is what the institution agreed to publish in the directory.
	Listing Listing `json:"listing,omitzero"`
	// Rename is a change of name waiting for the admins' approval.
	Rename *Rename `json:"rename,omitempty"`
	// StatusReason, StatusBy and StatusAt record the latest suspension,
	// reinstatement or end of the membership.
	StatusReason string    `json:"status_reason,omitempty"`
	StatusBy     uint64    `json:"status_by,omitempty"`
	StatusAt     time.Time `json:"status_at,omitzero"`
}

// CampaignKind says what a campaign asks of people.
type CampaignKind string

// The campaign kinds.
const (
	KindPledge CampaignKind = "pledge"
	KindEvent  CampaignKind = "event"
	KindBoth   CampaignKind = "both"
)

// HasPledge reports whether people can pledge to a campaign of this kind.
func (k CampaignKind) HasPledge() bool { return k == KindPledge || k == KindBoth }

// HasEvent reports whether people can sign up for an event of this kind.
func (k CampaignKind) HasEvent() bool { return k == KindEvent || k == KindBoth }

// Campaign is a reconciliation campaign with a call to action.
type Campaign struct {
	ID uint64 `json:"id"`
	// Code is the short code people open it by; stored lower case, unique.
	Code    string       `json:"code"`
	TitleAR string       `json:"title_ar"`
	TitleEN string       `json:"title_en,omitempty"`
	CallAR  string       `json:"call_ar"`
	CallEN  string       `json:"call_en,omitempty"`
	Kind    CampaignKind `json:"kind"`
	// Target is the number of pledges hoped for; 0 means none.
	Target     int       `json:"target,omitempty"`
	StartAt    time.Time `json:"start_at"`
	EndAt      time.Time `json:"end_at,omitempty"`
	EventAt    time.Time `json:"event_at,omitempty"`
	EventPlace string    `json:"event_place,omitempty"`
	// ReminderOffsets are how long before EventAt signed-up people are reminded.
	ReminderOffsets []time.Duration `json:"reminder_offsets,omitempty"`
	CreatedBy       uint64          `json:"created_by"`
	CreatedAt       time.Time       `json:"created_at"`
	// Organiser is who runs the campaign and whom people are told it is from.
	Organiser Organiser `json:"organiser,omitzero"`
	// Invited are the institutions asked to co-organise it that have not answered yet.
	Invited []uint64 `json:"invited,omitempty"`
	// Closed is set when the campaign ends early or its end time passes.
	Closed bool `json:"closed,omitempty"`
	// Opened is set once the start of the campaign has been announced to its creator.
	Opened bool `json:"opened,omitempty"`
	// TargetReachedAt is set once, in the transaction that records the pledge reaching Target.
	TargetReachedAt time.Time `json:"target_reached_at,omitempty"`
	// MilestonesSent lists the percentages (25, 50, 75, 100) already announced.
	MilestonesSent []int `json:"milestones_sent,omitempty"`
	// Media is the campaign's poster, PDF or video, shown with it.
	Media *Media `json:"media,omitempty"`
}

// Active reports whether people can act on the campaign at now.
func (c *Campaign) Active(now time.Time) bool {
	if c.Closed || now.Before(c.StartAt) {
		return false
	}
	return c.EndAt.IsZero() || now.Before(c.EndAt)
}

// Pledge is one person's pledge to a campaign. After the person asks to be
// forgotten it stays as an anonymous pledge: ContactID is zero and the
// descriptive fields are empty, so totals stay right.
//
// Stored, a pledge leaves out its campaign and contact IDs: its key holds them.
type Pledge struct {
	CampaignID  uint64          `json:"campaign_id,omitempty"`
	ContactID   uint64          `json:"contact_id,omitempty"`
	At          time.Time       `json:"at"`
	Channel     bot.ChannelName `json:"channel,omitempty"`
	Governorate string          `json:"governorate,omitempty"`
	Lang        string          `json:"lang,omitempty"`
	// ReferredBy is the contact whose share code brought this person, if any.
	ReferredBy uint64 `json:"referred_by,omitempty"`
	// Institution is the organising institution the pledge is credited to
	// (its share of a joint campaign); 0 for the coalition.
	Institution uint64 `json:"institution,omitempty"`
}

// Signup is one person's sign-up for a campaign's event. Stored, it leaves
// out its campaign and contact IDs, as a pledge does.
type Signup struct {
	CampaignID  uint64          `json:"campaign_id,omitempty"`
	ContactID   uint64          `json:"contact_id,omitempty"`
	At          time.Time       `json:"at"`
	Channel     bot.ChannelName `json:"channel,omitempty"`
	Governorate string          `json:"governorate,omitempty"`
	Lang        string          `json:"lang,omitempty"`
	ReferredBy  uint64          `json:"referred_by,omitempty"`
	// Institution is the organising institution credited, as for a Pledge.
	Institution uint64 `json:"institution,omitempty"`
}

// Counts are a campaign's running totals.
type Counts struct {
	Pledges int `json:"pledges"`
	Signups int `json:"signups"`
}

// Stats break a campaign's totals down for coordinators.
type Stats struct {
	Counts
	// Referred counts pledges and sign-ups that came through someone's share code.
	Referred int
	// Keys of these maps are governorate keys, "ar"/"en", channel names; "" means unknown.
	PledgesByGovernorate, PledgesByLang, PledgesByChannel map[string]int
	SignupsByGovernorate, SignupsByLang, SignupsByChannel map[string]int
}

// Menu is the set of options a person was last shown, so a typed number, the
// option's words or a pressed button can be resolved, and a button from an
// older menu recognised as expired.
type Menu struct {
	// ID changes with every menu shown; button payloads carry it.
	ID string `json:"id"`
	// Options are the option values in display order.
	Options []string `json:"options"`
	// Labels are the option texts as shown, so typing an option's words selects it.
	Labels []string `json:"labels,omitempty"`
}

// Session is a person's place in a multi-step conversation.
type Session struct {
	Flow string            `json:"flow,omitempty"`
	Step string            `json:"step,omitempty"`
	Data map[string]string `json:"data,omitempty"`
	Menu *Menu             `json:"menu,omitempty"`
	// UpdatedAt lets stale wizards be recognised.
	UpdatedAt time.Time `json:"updated_at"`
}

// AuditEntry records a privileged action: who did what, when.
type AuditEntry struct {
	ID      uint64            `json:"id"`
	At      time.Time         `json:"at"`
	ActorID uint64            `json:"actor_id"`
	Action  string            `json:"action"`
	Details map[string]string `json:"details,omitempty"`
}
