// Package export writes the store's institutions, campaigns, pledges,
// sign-ups and polls as CSV files, with or without the columns that identify people,
// for the whole coalition or for one member institution (Scope).
// The command-line export and the dashboard's downloads both use it, so a
// file reads the same whichever way it was made.
//
// Every cell is guarded against formula injection (Cell), and each file
// starts with a UTF-8 byte-order mark so spreadsheet programs show Arabic.
package export

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"mobilise/store"
)

// ErrUnknownFile means a file name that is not one of Files.
var ErrUnknownFile = errors.New("no such export file")

// The files, by name.
const (
	Institutions = "institutions.csv"
	Campaigns    = "campaigns.csv"
	Pledges      = "pledges.csv"
	Signups      = "signups.csv"
	Polls        = "polls.csv"
	PollAnswers  = "poll_answers.csv"
	// Supporters is an institution's list; only an institution's export has it.
	Supporters = "supporters.csv"
)

// Scope says whose data an export holds: the whole coalition's (the zero
// Scope), or, with Institution set, one member institution's own, for it
// to keep: its record, the campaigns and polls it organises (joint ones
// included, their counts its share), the pledges, sign-ups and poll
// answers credited to it, and its list of supporters.
type Scope struct {
	Institution *store.Institution
}

// Files returns the names of the files, in the order they are written.
func Files() []string { return Scope{}.Files() }

// Rows counts the rows of the whole coalition's files, for a progress bar.
func Rows(ctx context.Context, st store.Backend) (int, error) { return Scope{}.Rows(ctx, st) }

// Write writes the whole coalition's file name, as Scope.Write does.
func Write(ctx context.Context, st store.Backend, name string, personal bool, w io.Writer, onRow func()) (int, error) {
	return Scope{}.Write(ctx, st, name, personal, w, onRow)
}

// Files returns the names of the scope's files, in the order they are written.
func (sc Scope) Files() []string {
	out := []string{Institutions, Campaigns, Pledges, Signups, Polls, PollAnswers}
	if sc.Institution != nil {
		out = append(out, Supporters)
	}
	return out
}

// Rows counts the rows the scope's files will have together, for a progress bar.
func (sc Scope) Rows(ctx context.Context, st store.Backend) (int, error) {
	insts, err := sc.institutions(ctx, st)
	if err != nil {
		return 0, err
	}
	camps, err := sc.campaigns(ctx, st)
	if err != nil {
		return 0, err
	}
	total := len(insts) + len(camps)
	for _, c := range camps {
		n, err := sc.counts(ctx, st, c.ID)
		if err != nil {
			return 0, err
		}
		total += n.Pledges + n.Signups
	}
	polls, err := sc.polls(ctx, st)
	if err != nil {
		return 0, err
	}
	for _, p := range polls {
		n, err := sc.pollCounts(ctx, st, &p)
		if err != nil {
			return 0, err
		}
		total += len(p.Options) + n.Answered()
	}
	if sc.Institution != nil {
		if err := st.Supporters(ctx, sc.Institution.ID, func(*store.Support) error { total++; return nil }); err != nil {
			return 0, err
		}
	}
	return total, nil
}

// institutions are the institutions the scope shows: all, or its own.
func (sc Scope) institutions(ctx context.Context, st store.Backend) ([]store.Institution, error) {
	if sc.Institution != nil {
		return []store.Institution{*sc.Institution}, nil
	}
	return st.Institutions(ctx, "")
}

// campaigns are the campaigns of the scope: all, or those its institution organises.
func (sc Scope) campaigns(ctx context.Context, st store.Backend) ([]store.Campaign, error) {
	camps, err := st.Campaigns(ctx)
	if err != nil || sc.Institution == nil {
		return camps, err
	}
	var out []store.Campaign
	for _, c := range camps {
		if c.Organiser.Includes(sc.Institution.ID) {
			out = append(out, c)
		}
	}
	return out, nil
}

// polls are the polls of the scope: all, or those its institution organises.
func (sc Scope) polls(ctx context.Context, st store.Backend) ([]store.Poll, error) {
	polls, err := st.Polls(ctx)
	if err != nil || sc.Institution == nil {
		return polls, err
	}
	var out []store.Poll
	for _, p := range polls {
		if p.Organiser.Includes(sc.Institution.ID) {
			out = append(out, p)
		}
	}
	return out, nil
}

// credited reports whether a pledge, sign-up or answer credited to inst
// (0: the coalition) is the scope's.
func (sc Scope) credited(inst uint64) bool {
	return sc.Institution == nil || inst == sc.Institution.ID
}

// counts are a campaign's totals, or the scope's share of them.
func (sc Scope) counts(ctx context.Context, st store.Backend, campaignID uint64) (store.Counts, error) {
	if sc.Institution == nil {
		return st.Counts(ctx, campaignID)
	}
	s, err := st.CampaignShareStats(ctx, campaignID, sc.Institution.ID)
	return s.Counts, err
}

// pollCounts are a poll's totals, or, for an institution, the answers
// credited to it among all the people asked.
func (sc Scope) pollCounts(ctx context.Context, st store.Backend, p *store.Poll) (store.PollCounts, error) {
	all, err := st.PollCounts(ctx, p.ID)
	if err != nil || sc.Institution == nil {
		return all, err
	}
	share := store.PollCounts{Asked: all.Asked, Options: make([]int, len(p.Options))}
	err = st.PollAnswers(ctx, p.ID, func(a *store.PollAnswer) error {
		if sc.credited(a.Institution) && a.Option >= 0 && a.Option < len(share.Options) {
			share.Options[a.Option]++
		}
		return nil
	})
	return share, err
}

// file is one CSV file: its header and its rows.
type file struct {
	header func(personal bool) []string
	rows   func(ctx context.Context, st store.Backend, sc Scope, personal bool, emit func([]string) error) error
}

var files = map[string]file{
	Institutions: {institutionHeader, institutionRows},
	Campaigns:    {campaignHeader, campaignRows},
	Pledges:      {activityHeader, pledgeRows},
	Signups:      {activityHeader, signupRows},
	Polls:        {pollHeader, pollRows},
	PollAnswers:  {answerHeader, answerRows},
	Supporters:   {supporterHeader, supporterRows},
}

// Write writes the scope's file name to w: the byte-order mark, the header
// and one row per record. personal adds the columns that identify people
// (contact IDs, names, addresses, phones, e-mails); without it pledges and
// sign-ups keep their campaign, day, channel, governorate and language, so
// totals and breakdowns still add up. onRow, if not nil, is called after
// each row. It returns how many rows it wrote, the header not counted.
func (sc Scope) Write(ctx context.Context, st store.Backend, name string, personal bool, w io.Writer, onRow func()) (int, error) {
	f, ok := files[name]
	if !ok || !slices.Contains(sc.Files(), name) {
		return 0, fmt.Errorf("%w: %q", ErrUnknownFile, name)
	}
	// the byte-order mark makes spreadsheet programs read the file as UTF-8
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return 0, fmt.Errorf("writing %s: %w", name, err)
	}
	cw := csv.NewWriter(w)
	write := func(r []string) error {
		guarded := make([]string, len(r))
		for i, cell := range r {
			guarded[i] = Cell(cell)
		}
		return cw.Write(guarded)
	}
	n := 0
	err := write(f.header(personal))
	if err == nil {
		err = f.rows(ctx, st, sc, personal, func(r []string) error {
			n++
			if onRow != nil {
				onRow()
			}
			return write(r)
		})
	}
	cw.Flush()
	if err = errors.Join(err, cw.Error()); err != nil {
		return n, fmt.Errorf("writing %s: %w", name, err)
	}
	return n, nil
}

func institutionHeader(personal bool) []string {
	h := []string{"id", "name_ar", "name_en", "field", "governorates", "status", "created_at", "decided_at"}
	if personal {
		h = append(h, "contact_person", "phone", "email", "applicant_id", "decided_by")
	}
	return h
}

func institutionRows(ctx context.Context, st store.Backend, sc Scope, personal bool, emit func([]string) error) error {
	insts, err := sc.institutions(ctx, st)
	if err != nil {
		return err
	}
	for _, in := range insts {
		row := []string{id(in.ID), in.NameAR, in.NameEN, in.Field, strings.Join(in.Governorates, " "),
			string(in.Status), stamp(in.CreatedAt), stamp(in.DecidedAt)}
		if personal {
			row = append(row, in.ContactPerson, in.Phone, in.Email, id(in.ApplicantID), id(in.DecidedBy))
		}
		if err := emit(row); err != nil {
			return err
		}
	}
	return nil
}

func campaignHeader(personal bool) []string {
	h := []string{"id", "code", "title_ar", "title_en", "kind", "target", "start_at", "end_at",
		"event_at", "event_place", "closed", "pledges", "signups", "created_at", "organisers"}
	if personal {
		h = append(h, "created_by")
	}
	return h
}

// institutionCodes maps every institution's ID to its share code.
func institutionCodes(ctx context.Context, st store.Backend) (map[uint64]string, error) {
	insts, err := st.Institutions(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make(map[uint64]string, len(insts))
	for _, in := range insts {
		out[in.ID] = in.Code
	}
	return out, nil
}

// organisers names the organising institutions by code (their number if
// they have none), lead first, space-separated; "" for the coalition.
func organisers(org store.Organiser, codes map[uint64]string) string {
	var out []string
	for _, i := range org.Institutions {
		if c := codes[i]; c != "" {
			out = append(out, c)
		} else {
			out = append(out, strconv.FormatUint(i, 10))
		}
	}
	return strings.Join(out, " ")
}

func campaignRows(ctx context.Context, st store.Backend, sc Scope, personal bool, emit func([]string) error) error {
	camps, err := sc.campaigns(ctx, st)
	if err != nil {
		return err
	}
	codes, err := institutionCodes(ctx, st)
	if err != nil {
		return err
	}
	for _, c := range camps {
		n, err := sc.counts(ctx, st, c.ID)
		if err != nil {
			return err
		}
		row := []string{id(c.ID), c.Code, c.TitleAR, c.TitleEN, string(c.Kind), strconv.Itoa(c.Target),
			stamp(c.StartAt), stamp(c.EndAt), stamp(c.EventAt), c.EventPlace, strconv.FormatBool(c.Closed),
			strconv.Itoa(n.Pledges), strconv.Itoa(n.Signups), stamp(c.CreatedAt), organisers(c.Organiser, codes)}
		if personal {
			row = append(row, id(c.CreatedBy))
		}
		if err := emit(row); err != nil {
			return err
		}
	}
	return nil
}

func activityHeader(personal bool) []string {
	h := []string{"campaign_id", "campaign_code"}
	if personal {
		return append(h, "contact_id", "name", "addresses", "at", "channel", "governorate", "lang", "referred_by")
	}
	return append(h, "date", "channel", "governorate", "lang", "referred")
}

// activity is what a pledge and a sign-up have in common.
type activity struct {
	contactID, referredBy uint64
	at                    time.Time
	channel, gov, lang    string
	// institution is the organising institution it is credited to.
	institution uint64
}

// activityRows emits one row per pledge or sign-up (each) of every campaign
// of the scope, credited to it.
func activityRows(ctx context.Context, st store.Backend, sc Scope, personal bool, emit func([]string) error,
	each func(ctx context.Context, campaignID uint64, fn func(activity) error) error) error {
	camps, err := sc.campaigns(ctx, st)
	if err != nil {
		return err
	}
	people := &contactCache{st: st, byID: map[uint64]*store.Contact{}}
	for _, c := range camps {
		err := each(ctx, c.ID, func(a activity) error {
			if !sc.credited(a.institution) {
				return nil
			}
			row := []string{id(c.ID), c.Code}
			if !personal {
				day := ""
				if !a.at.IsZero() {
					day = a.at.UTC().Format(time.DateOnly)
				}
				return emit(append(row, day, a.channel, a.gov, a.lang, strconv.FormatBool(a.referredBy != 0)))
			}
			name, addrs, err := people.describe(ctx, a.contactID)
			if err != nil {
				return err
			}
			return emit(append(row, id(a.contactID), name, addrs, stamp(a.at), a.channel, a.gov, a.lang, id(a.referredBy)))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func pledgeRows(ctx context.Context, st store.Backend, sc Scope, personal bool, emit func([]string) error) error {
	return activityRows(ctx, st, sc, personal, emit, func(ctx context.Context, cid uint64, fn func(activity) error) error {
		return st.Pledges(ctx, cid, func(p *store.Pledge) error {
			return fn(activity{p.ContactID, p.ReferredBy, p.At, string(p.Channel), p.Governorate, p.Lang, p.Institution})
		})
	})
}

func signupRows(ctx context.Context, st store.Backend, sc Scope, personal bool, emit func([]string) error) error {
	return activityRows(ctx, st, sc, personal, emit, func(ctx context.Context, cid uint64, fn func(activity) error) error {
		return st.Signups(ctx, cid, func(su *store.Signup) error {
			return fn(activity{su.ContactID, su.ReferredBy, su.At, string(su.Channel), su.Governorate, su.Lang, su.Institution})
		})
	})
}

func supporterHeader(personal bool) []string {
	h := []string{"via", "newcomer", "governorate"}
	if personal {
		return append([]string{"contact_id", "name", "addresses", "at", "left_at"}, h...)
	}
	return append([]string{"date", "left"}, h...)
}

// supporterRows writes the institution's list, those who left included:
// when each came and how, where they live, and when they left; with
// personal, who they are.
func supporterRows(ctx context.Context, st store.Backend, sc Scope, personal bool, emit func([]string) error) error {
	if sc.Institution == nil {
		return nil
	}
	people := &contactCache{st: st, byID: map[uint64]*store.Contact{}}
	return st.Supporters(ctx, sc.Institution.ID, func(sp *store.Support) error {
		tail := []string{sp.Via, strconv.FormatBool(sp.Newcomer), sp.Governorate}
		if !personal {
			return emit(append([]string{sp.At.UTC().Format(time.DateOnly), strconv.FormatBool(!sp.Active())}, tail...))
		}
		name, addrs, err := people.describe(ctx, sp.ContactID)
		if err != nil {
			return err
		}
		return emit(append([]string{id(sp.ContactID), name, addrs, stamp(sp.At), stamp(sp.Left)}, tail...))
	})
}

// contactCache looks up the people behind pledges and sign-ups once each.
type contactCache struct {
	st   store.Backend
	byID map[uint64]*store.Contact
}

// describe returns the contact's name and addresses; empty for an
// anonymous pledge or a contact since forgotten.
func (cc *contactCache) describe(ctx context.Context, contactID uint64) (name, addrs string, err error) {
	if contactID == 0 {
		return "", "", nil
	}
	c, ok := cc.byID[contactID]
	if !ok {
		c, err = cc.st.Contact(ctx, contactID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			c = nil
		case err != nil:
			return "", "", err
		}
		cc.byID[contactID] = c
	}
	if c == nil {
		return "", "", nil
	}
	list := make([]string, len(c.Addresses))
	for i, a := range c.Addresses {
		list[i] = a.String()
	}
	return c.Name, strings.Join(list, " "), nil
}

// Cell guards a cell against formula injection, by OWASP's rule: a
// spreadsheet program runs a cell that starts with = + - @, a tab or a
// carriage return as a formula (=HYPERLINK can send the sheet's data away),
// so such a cell gets a leading ' and is shown as the text it is. Write
// applies it to every cell of every file: names, e-mails, phones, codes and
// places are all typed by someone, and a phone number such as +970… is shown
// whole instead of as a number.
func Cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func id(v uint64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatUint(v, 10)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func pollHeader(personal bool) []string {
	h := []string{"poll_id", "kind", "campaign_code", "question_ar", "question_en", "option", "option_ar", "option_en",
		"answers", "percent", "asked", "created_at", "closes_at", "closed", "organisers"}
	if personal {
		h = append(h, "created_by")
	}
	return h
}

// campaignCodes maps campaign IDs to their codes.
func campaignCodes(ctx context.Context, st store.Backend) (map[uint64]string, error) {
	camps, err := st.Campaigns(ctx)
	if err != nil {
		return nil, err
	}
	codes := make(map[uint64]string, len(camps))
	for _, c := range camps {
		codes[c.ID] = c.Code
	}
	return codes, nil
}

// pollRows writes a row per option of each poll of the scope, with its
// count and share (an institution's: of the answers credited to it).
func pollRows(ctx context.Context, st store.Backend, sc Scope, personal bool, emit func([]string) error) error {
	codes, err := campaignCodes(ctx, st)
	if err != nil {
		return err
	}
	insts, err := institutionCodes(ctx, st)
	if err != nil {
		return err
	}
	polls, err := sc.polls(ctx, st)
	if err != nil {
		return err
	}
	for _, p := range polls {
		counts, err := sc.pollCounts(ctx, st, &p)
		if err != nil {
			return err
		}
		for o, opt := range p.Options {
			n := 0
			if o < len(counts.Options) {
				n = counts.Options[o]
			}
			row := []string{id(p.ID), string(p.Kind), codes[p.CampaignID], p.QuestionAR, p.QuestionEN, strconv.Itoa(o + 1), opt.AR, opt.EN,
				strconv.Itoa(n), strconv.Itoa(counts.Percent(o)), strconv.Itoa(counts.Asked),
				stamp(p.CreatedAt), stamp(p.ClosesAt), strconv.FormatBool(p.Closed), organisers(p.Organiser, insts)}
			if personal {
				row = append(row, id(p.CreatedBy))
			}
			if err := emit(row); err != nil {
				return err
			}
		}
	}
	return nil
}

func answerHeader(personal bool) []string {
	h := []string{"poll_id", "campaign_code", "option", "option_ar"}
	if personal {
		return append(h, "contact_id", "name", "addresses", "at", "channel", "governorate", "lang")
	}
	return append(h, "date", "channel", "governorate", "lang")
}

// answerRows writes a row per answer of the scope; without personal data,
// the day stands for the moment and nobody is named.
func answerRows(ctx context.Context, st store.Backend, sc Scope, personal bool, emit func([]string) error) error {
	codes, err := campaignCodes(ctx, st)
	if err != nil {
		return err
	}
	polls, err := sc.polls(ctx, st)
	if err != nil {
		return err
	}
	people := &contactCache{st: st, byID: map[uint64]*store.Contact{}}
	for i := range polls {
		p := &polls[i]
		if err := st.PollAnswers(ctx, p.ID, func(a *store.PollAnswer) error {
			if !sc.credited(a.Institution) {
				return nil
			}
			option := ""
			if a.Option >= 0 && a.Option < len(p.Options) {
				option = p.Options[a.Option].AR
			}
			row := []string{id(p.ID), codes[p.CampaignID], strconv.Itoa(a.Option + 1), option}
			if personal {
				name, addrs, err := people.describe(ctx, a.ContactID)
				if err != nil {
					return err
				}
				row = append(row, id(a.ContactID), name, addrs, stamp(a.At))
			} else {
				day := ""
				if !a.At.IsZero() {
					day = a.At.UTC().Format(time.DateOnly)
				}
				row = append(row, day)
			}
			return emit(append(row, string(a.Channel), a.Governorate, a.Lang))
		}); err != nil {
			return fmt.Errorf("answers of poll %d: %w", p.ID, err)
		}
	}
	return nil
}
