package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"mobilise/store"
)

// runExport writes the institutions, campaigns, pledges and sign-ups as CSV files.
func runExport(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, stderr *os.File) int {
	fs := flag.NewFlagSet("mobilise export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: mobilise export [--dir DIR] [--no-personal] [--data DIR]

Writes institutions.csv, campaigns.csv, pledges.csv and signups.csv to DIR
(created 0700; files 0600, UTF-8 with a byte-order mark so spreadsheet
programs show Arabic). Works while the bot runs: the data comes from one
consistent copy of the database.

With --no-personal the files leave out everything that identifies a person:
contact IDs, names, addresses (which hold phone numbers), phones and e-mails.
Pledges and sign-ups keep their campaign, day, channel, governorate and
language, so totals and breakdowns still add up.

`)
		fs.PrintDefaults()
	}
	dir := fs.String("dir", "export", "directory to write the CSV files to")
	noPersonal := fs.Bool("no-personal", false, "leave out personal data (contact IDs, names, addresses, phones, e-mails)")
	dataDir := maintenanceFlags(fs, getenv)
	data, code, ok := parseMaintenanceArgs(fs, args, 0, dataDir)
	if !ok {
		return code
	}
	var bar *progress
	if term.IsTerminal(int(stderr.Fd())) {
		bar = newProgress(stderr, time.Now)
	}
	var written []exported
	err := readSnapshot(ctx, data, func(st *store.Store) (err error) {
		written, err = exportCSV(st, *dir, !*noPersonal, bar)
		return err
	})
	if err != nil {
		fmt.Fprintln(stderr, "mobilise export:", err)
		return 1
	}
	for _, w := range written {
		fmt.Fprintf(stdout, "%s: %d rows\n", w.path, w.rows)
	}
	return 0
}

// exported is one file written.
type exported struct {
	path string
	rows int
}

// exportCSV writes the four files to dir. personal adds the columns that
// identify people. bar, if not nil, shows progress.
func exportCSV(st *store.Store, dir string, personal bool, bar *progress) ([]exported, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	insts, err := st.Institutions("")
	if err != nil {
		return nil, err
	}
	camps, err := st.Campaigns()
	if err != nil {
		return nil, err
	}
	counts := make([]store.Counts, len(camps))
	total := len(insts) + len(camps)
	for i, c := range camps {
		if counts[i], err = st.Counts(c.ID); err != nil {
			return nil, err
		}
		total += counts[i].Pledges + counts[i].Signups
	}
	bar.start(total)
	defer bar.finish()

	var out []exported
	write := func(name string, header []string, rows func(emit func([]string) error) error) error {
		path := filepath.Join(dir, name)
		n, err := writeCSV(path, header, func(emit func([]string) error) error {
			return rows(func(r []string) error {
				bar.add(1)
				return emit(r)
			})
		})
		if err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		out = append(out, exported{path: path, rows: n})
		return nil
	}

	instHeader := []string{"id", "name_ar", "name_en", "field", "governorates", "status", "created_at", "decided_at"}
	if personal {
		instHeader = append(instHeader, "contact_person", "phone", "email", "applicant_id", "decided_by")
	}
	if err := write("institutions.csv", instHeader, func(emit func([]string) error) error {
		for _, in := range insts {
			row := []string{csvID(in.ID), csvText(in.NameAR), csvText(in.NameEN), in.Field, strings.Join(in.Governorates, " "),
				string(in.Status), csvTime(in.CreatedAt), csvTime(in.DecidedAt)}
			if personal {
				row = append(row, csvText(in.ContactPerson), in.Phone, in.Email, csvID(in.ApplicantID), csvID(in.DecidedBy))
			}
			if err := emit(row); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return out, err
	}

	campHeader := []string{"id", "code", "title_ar", "title_en", "kind", "target", "start_at", "end_at",
		"event_at", "event_place", "closed", "pledges", "signups", "created_at"}
	if personal {
		campHeader = append(campHeader, "created_by")
	}
	if err := write("campaigns.csv", campHeader, func(emit func([]string) error) error {
		for i, c := range camps {
			row := []string{csvID(c.ID), c.Code, csvText(c.TitleAR), csvText(c.TitleEN), string(c.Kind), strconv.Itoa(c.Target),
				csvTime(c.StartAt), csvTime(c.EndAt), csvTime(c.EventAt), csvText(c.EventPlace), strconv.FormatBool(c.Closed),
				strconv.Itoa(counts[i].Pledges), strconv.Itoa(counts[i].Signups), csvTime(c.CreatedAt)}
			if personal {
				row = append(row, csvID(c.CreatedBy))
			}
			if err := emit(row); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return out, err
	}

	people := &contactCache{st: st, byID: map[uint64]*store.Contact{}}
	actHeader := []string{"campaign_id", "campaign_code"}
	if personal {
		actHeader = append(actHeader, "contact_id", "name", "addresses", "at", "channel", "governorate", "lang", "referred_by")
	} else {
		actHeader = append(actHeader, "date", "channel", "governorate", "lang", "referred")
	}
	// act is one pledge's or sign-up's row
	act := func(c store.Campaign, contactID uint64, at time.Time, channel, gov, lang string, referredBy uint64) ([]string, error) {
		row := []string{csvID(c.ID), c.Code}
		if !personal {
			day := ""
			if !at.IsZero() {
				day = at.UTC().Format(time.DateOnly)
			}
			return append(row, day, channel, gov, lang, strconv.FormatBool(referredBy != 0)), nil
		}
		name, addrs, err := people.describe(contactID)
		if err != nil {
			return nil, err
		}
		return append(row, csvID(contactID), csvText(name), addrs, csvTime(at), channel, gov, lang, csvID(referredBy)), nil
	}
	if err := write("pledges.csv", actHeader, func(emit func([]string) error) error {
		for _, c := range camps {
			if err := st.Pledges(c.ID, func(p *store.Pledge) error {
				row, err := act(c, p.ContactID, p.At, p.Channel, p.Governorate, p.Lang, p.ReferredBy)
				if err != nil {
					return err
				}
				return emit(row)
			}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return out, err
	}
	if err := write("signups.csv", actHeader, func(emit func([]string) error) error {
		for _, c := range camps {
			if err := st.Signups(c.ID, func(su *store.Signup) error {
				row, err := act(c, su.ContactID, su.At, su.Channel, su.Governorate, su.Lang, su.ReferredBy)
				if err != nil {
					return err
				}
				return emit(row)
			}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return out, err
	}
	return out, nil
}

// writeCSV writes header and the rows rows emits to path (mode 0600),
// returning how many rows it wrote.
func writeCSV(path string, header []string, rows func(emit func([]string) error) error) (n int, err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	if err := f.Chmod(0o600); err != nil { // an earlier export's file may have had another mode
		return 0, err
	}
	// the byte-order mark makes spreadsheet programs read the file as UTF-8
	if _, err := io.WriteString(f, "\uFEFF"); err != nil {
		return 0, err
	}
	w := csv.NewWriter(f)
	if err := w.Write(header); err != nil {
		return 0, err
	}
	err = rows(func(r []string) error {
		n++
		return w.Write(r)
	})
	w.Flush()
	return n, errors.Join(err, w.Error())
}

// contactCache looks up the people behind pledges and sign-ups once each.
type contactCache struct {
	st   *store.Store
	byID map[uint64]*store.Contact
}

// describe returns the contact's name and addresses; empty for an
// anonymous pledge or a contact since forgotten.
func (cc *contactCache) describe(contactID uint64) (name, addrs string, err error) {
	if contactID == 0 {
		return "", "", nil
	}
	c, ok := cc.byID[contactID]
	if !ok {
		c, err = cc.st.Contact(contactID)
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
	return c.Name, strings.Join(c.Addresses, " "), nil
}

// csvText guards free text typed by people against formula injection:
// spreadsheet programs run a cell that starts with = + - or @ as a formula.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func csvID(v uint64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatUint(v, 10)
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// progress draws a one-line progress bar, redrawn at most ten times a second.
// A nil *progress draws nothing, so callers need not check for a terminal.
type progress struct {
	w           io.Writer
	now         func() time.Time
	total, done int
	drawn       time.Time
}

func newProgress(w io.Writer, now func() time.Time) *progress { return &progress{w: w, now: now} }

func (p *progress) start(total int) {
	if p == nil {
		return
	}
	p.total, p.done = total, 0
	p.draw()
}

func (p *progress) add(n int) {
	if p == nil {
		return
	}
	p.done += n
	if p.now().Sub(p.drawn) >= 100*time.Millisecond {
		p.draw()
	}
}

func (p *progress) finish() {
	if p == nil {
		return
	}
	p.draw()
	fmt.Fprintln(p.w)
}

func (p *progress) draw() {
	const width = 30
	filled := width
	if p.total > 0 {
		filled = min(width*p.done/p.total, width)
	}
	fmt.Fprintf(p.w, "\rexporting [%s%s] %d/%d", strings.Repeat("#", filled), strings.Repeat(".", width-filled), p.done, p.total)
	p.drawn = p.now()
}
