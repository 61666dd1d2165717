package store

import (
	"slices"
	"time"
)

// The states of a member institution after its approval. A suspended
// institution keeps its records but sends nothing and its people cannot
// act for it until an admin reinstates it; an ended membership is final.
const (
	InstitutionSuspended InstitutionStatus = "suspended"
	InstitutionEnded     InstitutionStatus = "ended"
)

// Organiser says who organises a campaign, broadcast or reminder, and so
// who its recipients are told it comes from: the coalition, one member
// institution, or several jointly. The zero value is the coalition, so a
// record written before institutions organised anything is the
// coalition's. Any record that goes out to people in someone's name (a
// poll, say) carries one, as a field `Organiser Organiser
// json:"organiser,omitzero"`, and the rulebook's scope checks apply to it.
type Organiser struct {
	// Institutions are the organising member institutions, the lead first;
	// none means the coalition.
	Institutions []uint64 `json:"institutions,omitempty"`
}

// CoalitionOrganiser is the coalition as organiser.
func CoalitionOrganiser() Organiser { return Organiser{} }

// OrganisedBy is the organiser made of the given institutions, the lead first.
func OrganisedBy(ids ...uint64) Organiser {
	var out []uint64
	for _, id := range ids {
		if id != 0 && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return Organiser{Institutions: out}
}

// IsCoalition reports whether the coalition itself organises it.
func (o Organiser) IsCoalition() bool { return len(o.Institutions) == 0 }

// Joint reports whether several institutions organise it together.
func (o Organiser) Joint() bool { return len(o.Institutions) > 1 }

// Lead is the institution that leads it (0 for the coalition): it manages
// a joint campaign, its partners see their share.
func (o Organiser) Lead() uint64 {
	if len(o.Institutions) == 0 {
		return 0
	}
	return o.Institutions[0]
}

// Includes reports whether institution id organises it.
func (o Organiser) Includes(id uint64) bool { return id != 0 && slices.Contains(o.Institutions, id) }

// InstitutionRole is what a person does for a member institution.
type InstitutionRole string

// The roles in an institution. Representatives speak for it: they appoint
// its coordinators and other representatives, and change its details;
// coordinators run its campaigns and message its supporters. A
// representative can do all a coordinator can.
const (
	InstitutionRepresentative InstitutionRole = "representative"
	InstitutionCoordinator    InstitutionRole = "coordinator"
)

// Affiliation is one person's role in one member institution.
type Affiliation struct {
	InstitutionID uint64          `json:"institution_id"`
	Role          InstitutionRole `json:"role"`
	Since         time.Time       `json:"since"`
	// By is who appointed them (0 for the migration that made today's
	// members representatives).
	By uint64 `json:"by,omitempty"`
}

// AffiliationWith returns the person's role in institution id, "" if none.
func (c *Contact) AffiliationWith(id uint64) InstitutionRole {
	for _, a := range c.Affiliations {
		if a.InstitutionID == id {
			return a.Role
		}
	}
	return ""
}

// Listing is what an institution agreed to publish in the coalition's
// directory. Nothing is public until it says so.
type Listing struct {
	// Listed puts the institution in the directory at all.
	Listed bool `json:"listed,omitempty"`
	// Phone and Email publish the application's phone number and e-mail.
	Phone bool `json:"phone,omitempty"`
	Email bool `json:"email,omitempty"`
	// AboutAR and AboutEN are a few words about its work, written to be read by anyone.
	AboutAR string `json:"about_ar,omitempty"`
	AboutEN string `json:"about_en,omitempty"`
}

// Rename is a change of an institution's name waiting for the admins: the
// old name stays in use until one of them approves the new one.
type Rename struct {
	NameAR string    `json:"name_ar"`
	NameEN string    `json:"name_en,omitempty"`
	By     uint64    `json:"by"`
	At     time.Time `json:"at"`
}

// Active reports whether the institution is a member in good standing: its
// people may act for it and it may send.
func (i *Institution) Active() bool { return i.Status == InstitutionApproved }
