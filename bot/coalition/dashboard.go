package coalition

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"mobilise/bot"
	"mobilise/bot/outbox"
	"mobilise/messages"
	"mobilise/store"
	"mobilise/store/export"
)

// What the dashboard shows beyond what chat shows: the audit log, a
// campaign's days, the state of sending, the approval queue, the exports.

// AuditFilter narrows the audit log: to one person (0: anyone), one
// action ("": any), and entries from From (inclusive) to To (exclusive);
// zero times leave that side open. Limit bounds the entries returned
// (0: 200).
type AuditFilter struct {
	Person   uint64
	Action   string
	From, To time.Time
	Limit    int
}

// AuditPage is a page of the audit log, newest first.
type AuditPage struct {
	Entries []store.AuditEntry
	// Matched counts every entry the filter matched, beyond Limit too.
	Matched int
	// Actions lists every action the log holds, for choosing one.
	Actions []string
}

// AuditLog reads the audit log, newest first. Admins only: it holds the
// texts of every broadcast and who did what.
func (m *Members) AuditLog(ctx context.Context, by Actor, f AuditFilter) (AuditPage, error) {
	if !by.can(store.RoleAdmin) {
		return AuditPage{}, ErrNotAllowed
	}
	if f.Limit <= 0 {
		f.Limit = 200
	}
	var page AuditPage
	seen := map[string]bool{}
	identity := map[uint64]uint64{}
	err := m.st.Audit(ctx, func(e *store.AuditEntry) error {
		if !seen[e.Action] {
			seen[e.Action] = true
			page.Actions = append(page.Actions, e.Action)
		}
		if f.Action != "" && e.Action != f.Action {
			return nil
		}
		if (!f.From.IsZero() && e.At.Before(f.From)) || (!f.To.IsZero() && !e.At.Before(f.To)) {
			return nil
		}
		if f.Person != 0 {
			// the person may have acted from an account since merged into another
			id, ok := identity[e.ActorID]
			if !ok {
				var err error
				if id, err = m.st.Identity(ctx, e.ActorID); err != nil {
					id = e.ActorID
				}
				identity[e.ActorID] = id
			}
			if id != f.Person {
				return nil
			}
		}
		page.Matched++
		page.Entries = append(page.Entries, *e)
		if len(page.Entries) > f.Limit {
			page.Entries = page.Entries[1:]
		}
		return nil
	})
	if err != nil {
		return AuditPage{}, fmt.Errorf("reading the audit log: %w", err)
	}
	slices.Reverse(page.Entries)
	slices.Sort(page.Actions)
	return page, nil
}

// Activity counts a campaign's pledges and sign-ups per day, in the
// coalition's time zone. Coordinators and admins see it.
func (cs *Campaigns) Activity(ctx context.Context, by Actor, c *store.Campaign) ([]store.DayCount, error) {
	if !by.can(store.RoleCoordinator) {
		return nil, ErrNotAllowed
	}
	return cs.st.ActivityByDay(ctx, c.ID, cs.loc)
}

// ChannelStatus is how sending stands on one channel.
type ChannelStatus struct {
	Channel bot.ChannelName
	// Waiting counts the messages in the outbox for it.
	Waiting int
	// SentLastHour counts the bulk messages it sent in the last hour.
	SentLastHour int
	// ThrottledUntil is when the platform lets the bot send again after
	// saying it sent too fast; zero when it did not.
	ThrottledUntil time.Time
}

// SendingStatus is the state of all sending.
type SendingStatus struct {
	Paused   *store.Pause
	Channels []ChannelStatus
}

// Status says how sending stands: the kill switch and, per channel, what
// waits and what went out. Coordinators and admins see it.
func (s *Sending) Status(ctx context.Context, by Actor) (SendingStatus, error) {
	if !by.can(store.RoleCoordinator) {
		return SendingStatus{}, ErrNotAllowed
	}
	var out SendingStatus
	var err error
	if out.Paused, err = s.pauseState(ctx); err != nil {
		return out, err
	}
	depth, err := s.st.OutboxDepth(ctx)
	if err != nil {
		return out, err
	}
	now := s.now()
	for _, ch := range s.out.Channels() {
		cs := ChannelStatus{Channel: ch, Waiting: depth[ch]}
		if cs.SentLastHour, err = s.st.OutboxSentSince(ctx, ch, now.Add(-time.Hour)); err != nil {
			return out, err
		}
		until, err := s.st.ThrottledUntil(ctx, ch)
		if err != nil {
			return out, err
		}
		if until.After(now) {
			cs.ThrottledUntil = until
		}
		out.Channels = append(out.Channels, cs)
	}
	return out, nil
}

// SendTest sends the acting person their own copy of a draft, as they
// would get it: a test before the real thing. It is recorded in the audit log.
func (b *Broadcasts) SendTest(ctx context.Context, by Actor, d BroadcastDraft) error {
	if strings.TrimSpace(d.TextAR) == "" {
		return invalid("text_ar", messages.ErrInputEmpty)
	}
	org, c, err := b.checkDraft(ctx, by, &d)
	if err != nil {
		return err
	}
	me, err := b.st.Contact(ctx, by.Person)
	if err != nil {
		return notFound(err)
	}
	from, err := b.from(ctx, org)
	if err != nil {
		return err
	}
	w := b.words()
	return b.st.InTx(ctx, func(ctx context.Context) error {
		if err := b.out.Notify(ctx, outbox.Notice{ContactID: by.Person, Kind: "broadcast_test", Media: d.Media, Render: func(lang string) (string, [][]bot.Button) {
			return w.Message(from, d.TextAR, d.TextEN, c, lang, by.From.Channel, me.Name, "")
		}}); err != nil {
			return err
		}
		return b.audit(ctx, by.Person, "broadcast_test_sent", map[string]string{
			"campaign_id": strconv.FormatUint(d.CampaignID, 10), "text_ar": d.TextAR, "text_en": d.TextEN,
		})
	})
}

// Awaiting lists the broadcasts waiting for a second person's approval,
// oldest first. Admins only: they are the ones who decide.
func (b *Broadcasts) Awaiting(ctx context.Context, by Actor) ([]store.Broadcast, error) {
	if !by.can(store.RoleAdmin) {
		return nil, ErrNotAllowed
	}
	all, err := b.st.Broadcasts(ctx)
	if err != nil {
		return nil, err
	}
	var out []store.Broadcast
	for _, bc := range all {
		if bc.Status == store.BroadcastAwaitingApproval {
			out = append(out, bc)
		}
	}
	return out, nil
}

// Get returns one broadcast. Coordinators and admins see them.
func (b *Broadcasts) Get(ctx context.Context, by Actor, id uint64) (*store.Broadcast, error) {
	if !by.can(store.RoleCoordinator) {
		return nil, ErrNotAllowed
	}
	bc, err := b.st.Broadcast(ctx, id)
	return bc, notFound(err)
}

// NextTimes returns up to n of the times a stored reminder fires next,
// from its next due time on; one for a one-off.
func (rm *Reminders) NextTimes(r *store.Reminder, n int) []time.Time {
	if r.NextFireAt.IsZero() || n <= 0 {
		return nil
	}
	s := ScheduleOf(r)
	if s == nil {
		return []time.Time{r.NextFireAt}
	}
	return append([]time.Time{r.NextFireAt}, s.NextN(r.NextFireAt, rm.loc, n-1)...)
}

// Exports are the CSV files of the coalition's data, as downloads.
type Exports struct{ *rules }

// Files names the files there are.
func (e *Exports) Files() []string { return export.Files() }

// Write writes one CSV file to w and records the download in the audit
// log. Coordinators and admins download; the columns that identify people
// (personal) are for admins only. It returns how many rows it wrote.
func (e *Exports) Write(ctx context.Context, by Actor, file string, personal bool, w io.Writer) (int, error) {
	if !by.can(store.RoleCoordinator) || (personal && !by.can(store.RoleAdmin)) {
		return 0, ErrNotAllowed
	}
	if !slices.Contains(export.Files(), file) {
		return 0, ErrNotFound
	}
	// recorded before a byte goes out: a download cut short was still a download
	if err := e.audit(ctx, by.Person, "export_downloaded", map[string]string{"file": file, "personal": strconv.FormatBool(personal)}); err != nil {
		return 0, err
	}
	n, err := export.Write(ctx, e.st, file, personal, w, nil)
	if errors.Is(err, export.ErrUnknownFile) {
		return n, ErrNotFound
	}
	return n, err
}
