package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"mobilise/store"
	"mobilise/store/export"
)

// runExport writes the institutions, campaigns, pledges, sign-ups and polls
// as CSV files: the whole coalition's, or one member institution's.
func runExport(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, stderr *os.File) int {
	fs := flag.NewFlagSet("mobilise export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: mobilise export [--dir DIR] [--no-personal] [--institution CODE] [--data DIR]

Writes institutions.csv, campaigns.csv, pledges.csv, signups.csv, polls.csv
and poll_answers.csv to DIR (created 0700; files 0600, UTF-8 with a
byte-order mark so spreadsheet programs show Arabic). Works while the bot
runs: the data comes from one consistent copy of the database.

With --no-personal the files leave out everything that identifies a person:
contact IDs, names, addresses (which hold phone numbers), phones and e-mails.
Pledges and sign-ups keep their campaign, day, channel, governorate and
language, so totals and breakdowns still add up.

With --institution CODE the files hold one member institution's own data
only, for it to keep: its record, the campaigns and polls it organises (a
joint campaign's counts are its share), the pledges, sign-ups and answers
credited to it, and supporters.csv, its list of supporters. --no-personal
applies as above.

`)
		fs.PrintDefaults()
	}
	dir := fs.String("dir", "export", "directory to write the CSV files to")
	noPersonal := fs.Bool("no-personal", false, "leave out personal data (contact IDs, names, addresses, phones, e-mails)")
	only := fs.String("institution", "", "export only the data of the member institution with this share code")
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
		var scope export.Scope
		if *only != "" {
			scope.Institution, err = st.InstitutionByCode(ctx, *only)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("there is no institution with the code %q", *only)
			}
			if err != nil {
				return err
			}
		}
		written, err = exportCSV(st, *dir, scope, !*noPersonal, bar)
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

// exportCSV writes the scope's files to dir. personal adds the columns that
// identify people. bar, if not nil, shows progress.
func exportCSV(st *store.Store, dir string, scope export.Scope, personal bool, bar *progress) ([]exported, error) {
	ctx := context.Background()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	total, err := scope.Rows(ctx, st)
	if err != nil {
		return nil, err
	}
	bar.start(total)
	defer bar.finish()
	var out []exported
	for _, name := range scope.Files() {
		path := filepath.Join(dir, name)
		n, err := writeCSV(path, func(w io.Writer) (int, error) {
			return scope.Write(ctx, st, name, personal, w, func() { bar.add(1) })
		})
		if err != nil {
			return out, fmt.Errorf("writing %s: %w", path, err)
		}
		out = append(out, exported{path: path, rows: n})
	}
	return out, nil
}

// writeCSV creates path (mode 0600) and has write fill it, returning how
// many rows it wrote.
func writeCSV(path string, write func(io.Writer) (int, error)) (n int, err error) {
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
	return write(f)
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
