package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"text/tabwriter"

	"mobilise/store"
)

// statsReport is what `mobilise stats` shows.
type statsReport struct {
	Campaigns []campaignFigures `json:"campaigns"`
	Contacts  contactFigures    `json:"contacts"`
	// Institutions counts institutions by status.
	Institutions map[string]int `json:"institutions"`
	// Outbox counts the messages waiting per channel.
	Outbox map[string]int `json:"outbox"`
}

type campaignFigures struct {
	Code    string `json:"code"`
	Title   string `json:"title"`
	Closed  bool   `json:"closed"`
	Pledges int    `json:"pledges"`
	Signups int    `json:"signups"`
	// Referred counts pledges and sign-ups that came through a share code.
	Referred int `json:"referred"`
}

type contactFigures struct {
	Total int `json:"total"`
	// Consented have said yes to campaign messages and not /stop.
	Consented int `json:"consented"`
	// NoConsent have not said yes (and not /stop).
	NoConsent int `json:"no_consent"`
	// Stopped said /stop.
	Stopped int `json:"stopped"`
}

// runStats prints the figures of campaigns, contacts, institutions and the outbox.
func runStats(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, stderr *os.File) int {
	fs := flag.NewFlagSet("mobilise stats", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: mobilise stats [--json] [--data DIR]

Shows per campaign the pledges, sign-ups and referrals; contacts by consent;
institutions by status; and the messages waiting in the outbox. Works while
the bot runs.

`)
		fs.PrintDefaults()
	}
	asJSON := fs.Bool("json", false, "print JSON instead of tables")
	dataDir := maintenanceFlags(fs, getenv)
	data, code, ok := parseMaintenanceArgs(fs, args, 0, dataDir)
	if !ok {
		return code
	}
	var rep *statsReport
	err := readSnapshot(ctx, data, func(st *store.Store) (err error) {
		rep, err = gatherStats(st)
		return err
	})
	if err != nil {
		fmt.Fprintln(stderr, "mobilise stats:", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.print(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "mobilise stats:", err)
		return 1
	}
	return 0
}

func gatherStats(st *store.Store) (*statsReport, error) {
	rep := &statsReport{Campaigns: []campaignFigures{}, Institutions: map[string]int{}}
	camps, err := st.Campaigns(context.Background())
	if err != nil {
		return nil, err
	}
	for _, c := range camps {
		s, err := st.CampaignStats(context.Background(), c.ID)
		if err != nil {
			return nil, err
		}
		title := c.TitleAR
		if title == "" {
			title = c.TitleEN
		}
		rep.Campaigns = append(rep.Campaigns, campaignFigures{
			Code: c.Code, Title: title, Closed: c.Closed,
			Pledges: s.Pledges, Signups: s.Signups, Referred: s.Referred,
		})
	}
	err = st.Contacts(context.Background(), func(c *store.Contact) error {
		rep.Contacts.Total++
		switch {
		case c.Stopped:
			rep.Contacts.Stopped++
		case c.Consent:
			rep.Contacts.Consented++
		default:
			rep.Contacts.NoConsent++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("counting contacts: %w", err)
	}
	insts, err := st.Institutions(context.Background(), "")
	if err != nil {
		return nil, err
	}
	for _, s := range []store.InstitutionStatus{store.InstitutionPending, store.InstitutionApproved, store.InstitutionRejected} {
		rep.Institutions[string(s)] = 0
	}
	for _, in := range insts {
		rep.Institutions[string(in.Status)]++
	}
	depth, err := st.OutboxDepth(context.Background())
	if err != nil {
		return nil, err
	}
	rep.Outbox = map[string]int{}
	for ch, n := range depth {
		rep.Outbox[string(ch)] = n
	}
	return rep, nil
}

func (r *statsReport) print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CAMPAIGN\tPLEDGES\tSIGN-UPS\tREFERRED\tSTATUS\tTITLE")
	for _, c := range r.Campaigns {
		status := "open"
		if c.Closed {
			status = "closed"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\n", c.Code, c.Pledges, c.Signups, c.Referred, status, c.Title)
	}
	if len(r.Campaigns) == 0 {
		fmt.Fprintln(tw, "(none)")
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "CONTACTS\t%d\n  consented\t%d\n  no consent\t%d\n  stopped\t%d\n",
		r.Contacts.Total, r.Contacts.Consented, r.Contacts.NoConsent, r.Contacts.Stopped)
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "INSTITUTIONS")
	for _, s := range slices.Sorted(maps.Keys(r.Institutions)) {
		fmt.Fprintf(tw, "  %s\t%d\n", s, r.Institutions[s])
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "OUTBOX (waiting)")
	if len(r.Outbox) == 0 {
		fmt.Fprintln(tw, "  empty\t0")
	}
	for _, ch := range slices.Sorted(maps.Keys(r.Outbox)) {
		fmt.Fprintf(tw, "  %s\t%d\n", ch, r.Outbox[ch])
	}
	return tw.Flush()
}
