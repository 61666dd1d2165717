package coalition

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"unicode"

	"mobilise/bot"
	"mobilise/bot/outbox"
	"mobilise/messages"
	"mobilise/store"
)

// The limits of what an institution's application may hold.
const (
	MaxName  = 150
	MaxEmail = 254
)

// Institutions are the coalition's member institutions and the applications to become one.
type Institutions struct{ *rules }

// Application is what a person submits for their institution.
type Application struct {
	NameAR, NameEN string
	Field          string
	Governorates   []string
	ContactPerson  string
	Phone, Email   string
}

// Register submits an application and asks the admins to decide. A person
// has one application waiting at a time; the institution's name must be
// given in Arabic, and either a phone number or an e-mail to reach it.
func (in *Institutions) Register(ctx context.Context, by Actor, app Application) (*store.Institution, error) {
	app.NameAR, app.NameEN, app.ContactPerson = messages.CleanName(app.NameAR), messages.CleanName(app.NameEN), messages.CleanName(app.ContactPerson)
	switch {
	case app.NameAR == "" || !HasArabic(app.NameAR):
		return nil, invalid("name_ar", messages.RegisterNeedArabic)
	case !messages.IsField(app.Field):
		return nil, invalid("field", messages.ErrChooseOption)
	case len(app.Governorates) == 0:
		return nil, invalid("govs", messages.RegisterNeedGovernorate)
	case app.ContactPerson == "":
		return nil, invalid("person", messages.ErrInputEmpty)
	case app.Phone == "" && app.Email == "":
		return nil, invalid("contact", messages.RegisterBadContact)
	}
	for _, g := range app.Governorates {
		if !messages.IsGovernorate(g) {
			return nil, invalid("govs", messages.ErrChooseOption)
		}
	}
	pending, err := in.st.Institutions(ctx, store.InstitutionPending)
	if err != nil {
		return nil, fmt.Errorf("listing pending institutions: %w", err)
	}
	for _, inst := range pending {
		if inst.ApplicantID == by.Person {
			return &inst, ErrPending
		}
	}
	inst := &store.Institution{
		NameAR: app.NameAR, NameEN: app.NameEN, Field: app.Field, Governorates: app.Governorates,
		ContactPerson: app.ContactPerson, Phone: app.Phone, Email: app.Email,
		Status: store.InstitutionPending, ApplicantID: by.Person, CreatedAt: in.now().UTC(),
	}
	err = in.st.InTx(ctx, func(ctx context.Context) error {
		if err := in.st.CreateInstitution(ctx, inst); err != nil {
			return fmt.Errorf("storing institution application: %w", err)
		}
		in.log.Info("institution application", "institution_id", inst.ID, "contact_id", by.Person)
		id := strconv.FormatUint(inst.ID, 10)
		return in.notifyAdmins(ctx, by.Person, "institution_pending", func(lang string) (string, [][]bot.Button) {
			return in.cat.Text(lang, messages.AdminNewApplication, map[string]any{"ID": messages.FormatID(lang, inst.ID), "Name": InstitutionName(inst, lang)}),
				[][]bot.Button{{
					{Text: in.cat.Text(lang, messages.AdminApproveButton, nil), Payload: "/approve " + id},
					{Text: in.cat.Text(lang, messages.AdminRejectButton, nil), Payload: "/reject " + id},
				}}
		})
	})
	if err != nil {
		return nil, err
	}
	return inst, nil
}

// Pending lists the applications waiting for a decision. Admins only.
func (in *Institutions) Pending(ctx context.Context, by Actor) ([]store.Institution, error) {
	if !by.can(store.RoleAdmin) {
		return nil, ErrNotAllowed
	}
	return in.st.Institutions(ctx, store.InstitutionPending)
}

// Get returns an institution. Admins only: applications hold contact details.
func (in *Institutions) Get(ctx context.Context, by Actor, id uint64) (*store.Institution, error) {
	if !by.can(store.RoleAdmin) {
		return nil, ErrNotAllowed
	}
	inst, err := in.st.Institution(ctx, id)
	return inst, notFound(err)
}

// Approve accepts an application: the institution gets its share code,
// the applicant becomes a member and its first representative, and is
// told, with the reason if one is given.
func (in *Institutions) Approve(ctx context.Context, by Actor, id uint64, reason string) (*store.Institution, error) {
	return in.decide(ctx, by, id, store.InstitutionApproved, reason)
}

// Reject turns an application down; the applicant is told, with the reason if given.
func (in *Institutions) Reject(ctx context.Context, by Actor, id uint64, reason string) (*store.Institution, error) {
	return in.decide(ctx, by, id, store.InstitutionRejected, reason)
}

var errAlreadyDecided = errors.New("institution already decided")

func (in *Institutions) decide(ctx context.Context, by Actor, id uint64, status store.InstitutionStatus, reason string) (*store.Institution, error) {
	if !by.can(store.RoleAdmin) {
		return nil, ErrNotAllowed
	}
	reason = strings.TrimSpace(reason)
	inst, err := in.st.Institution(ctx, id)
	if err != nil {
		return nil, notFound(err)
	}
	if inst.Status != store.InstitutionPending {
		return inst, ErrDecided
	}
	err = in.st.InTx(ctx, func(ctx context.Context) error {
		inst, err = in.st.UpdateInstitution(ctx, id, func(i *store.Institution) error {
			if i.Status != store.InstitutionPending {
				return errAlreadyDecided
			}
			i.Status, i.DecidedBy, i.DecidedAt = status, by.Person, in.now().UTC()
			return nil
		})
		if errors.Is(err, errAlreadyDecided) {
			return ErrDecided
		}
		if err != nil {
			return fmt.Errorf("deciding institution %d: %w", id, err)
		}
		if status == store.InstitutionApproved {
			if inst, err = in.st.AssignInstitutionCode(ctx, inst.ID); err != nil {
				return err
			}
			err := in.makeRepresentative(ctx, inst.ApplicantID, inst.ID, by.Person)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("making the applicant of institution %d its representative: %w", inst.ID, err)
			}
			in.roleChanged(ctx)
		}
		if err := in.audit(ctx, by.Person, "institution_"+string(status), map[string]string{"institution_id": strconv.FormatUint(inst.ID, 10), "reason": reason}); err != nil {
			return err
		}
		key := messages.RegisterApproved
		if status == store.InstitutionRejected {
			key = messages.RegisterRejected
		}
		decided := inst
		return in.out.Notify(ctx, outbox.Notice{ContactID: inst.ApplicantID, Kind: "institution_decided", Render: func(lang string) (string, [][]bot.Button) {
			text := in.cat.Text(lang, key, map[string]any{"Name": InstitutionName(decided, lang)})
			if reason != "" {
				text += "\n" + in.cat.Text(lang, messages.RegisterReason, map[string]any{"Reason": reason})
			}
			return text, nil
		}})
	})
	return inst, err
}

// HasArabic reports whether s has an Arabic letter.
func HasArabic(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Arabic, r) }) >= 0
}

// ParsePhone accepts an international or local phone number, returning its
// digits with a leading + kept.
func ParsePhone(s string) (string, bool) {
	s = messages.ToASCIIDigits(s)
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.':
		default:
			return "", false
		}
	}
	digits := strings.TrimPrefix(b.String(), "+")
	if len(digits) < 7 || len(digits) > 15 {
		return "", false
	}
	return b.String(), true
}

// ParseEmail accepts a plain e-mail address.
func ParseEmail(s string) (string, bool) {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || !strings.Contains(a.Address, ".") {
		return "", false
	}
	return a.Address, true
}
