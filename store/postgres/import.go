package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"mobilise/store"
)

// Exporter is a store whose records can be copied whole: the bbolt
// store's Export.
type Exporter interface {
	Export(ctx context.Context, fn func(*store.Records) error) error
}

// CopyCount is how many records of one kind the source gave and the
// database holds after a copy.
type CopyCount struct {
	Kind           string
	Source, Target int
}

// ErrNotEmpty means the database already holds data that a copy would
// overwrite: data written by the bot, or a copy written to since.
var ErrNotEmpty = errors.New("the database already holds data of its own")

// keyMigrated is the meta row of the last copy Import made: where from,
// when, and the counts it left, so a later copy can tell whether anything
// was written since.
const keyMigrated = "migrated_from"

// keyStarted is the meta row of the first instance that started on the
// database since the last copy. Instances change records in place (a
// conversation moves on, a campaign is edited) without changing any
// count, so the counts alone cannot tell a copy written to from an
// untouched one; this row can. A copy empties meta, and with it this row.
const keyStarted = "instance_started"

type started struct {
	At   time.Time `json:"at"`
	Host string    `json:"host"`
}

// RecordStart notes that an instance runs on the database, unless one
// already did since the last copy, so that Import will not copy over
// what instances write. The bot calls it at start; mobilise migrate does
// not.
func (s *Store) RecordStart(ctx context.Context, host string) error {
	buf, err := json.Marshal(started{At: s.now().UTC(), Host: host})
	if err != nil {
		return fmt.Errorf("recording the instance's start: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO NOTHING`, keyStarted, buf); err != nil {
		return fmt.Errorf("recording the instance's start: %w", err)
	}
	return nil
}

type migrated struct {
	From   string         `json:"from"`
	At     time.Time      `json:"at"`
	Counts map[string]int `json:"counts"`
}

// Import copies everything src holds into the database in one
// transaction, with the same IDs, and checks that the database then holds
// as many records of each kind as src gave; if not, or if anything fails,
// nothing is written. from names the source in the record of the copy.
//
// It may be run again: a database that holds only an earlier copy, not
// written to since (its counts are those the copy left, and every row is
// one the copy's transaction wrote), is emptied and copied into afresh, in
// the same transaction, so it ends as src is now; the media files already
// there stay.
// A database with data of its own, or written to since the copy, gives
// ErrNotEmpty and is left as it is. Identity sequences are moved past
// the source's, so IDs stay never given twice.
func (s *Store) Import(ctx context.Context, src Exporter, from string) ([]CopyCount, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("copying into PostgreSQL: beginning: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }() // after Commit, a no-op
	counts, err := s.importTx(ctx, tx, src, from)
	if err != nil {
		return counts, fmt.Errorf("copying into PostgreSQL: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return counts, fmt.Errorf("copying into PostgreSQL: committing: %w", err)
	}
	return counts, nil
}

func (s *Store) importTx(ctx context.Context, tx pgx.Tx, src Exporter, from string) ([]CopyCount, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, leaseKey("migrate")); err != nil {
		return nil, err
	}
	if err := emptyForCopy(ctx, tx); err != nil {
		return nil, err
	}
	source := map[string]int{}
	im := &importer{tx: tx, texts: map[uint64]*store.Broadcast{}}
	err := src.Export(ctx, func(r *store.Records) error {
		for k, n := range r.Counts() {
			source[k] += n
		}
		return im.put(ctx, r)
	})
	if err != nil {
		return nil, err
	}
	if err := im.sequences(ctx); err != nil {
		return nil, fmt.Errorf("moving the ID sequences on: %w", err)
	}
	target, err := countRecords(ctx, tx)
	if err != nil {
		return nil, err
	}
	var out []CopyCount
	var differ []string
	for _, k := range store.CopyKinds() {
		out = append(out, CopyCount{Kind: k, Source: source[k], Target: target[k]})
		if source[k] != target[k] {
			differ = append(differ, fmt.Sprintf("%s %d, copied %d", k, source[k], target[k]))
		}
	}
	if len(differ) > 0 {
		return out, fmt.Errorf("the counts differ, nothing was copied: %s", strings.Join(differ, "; "))
	}
	buf, err := json.Marshal(migrated{From: from, At: time.Now().UTC(), Counts: target})
	if err != nil {
		return out, fmt.Errorf("recording the copy: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2)`, keyMigrated, buf); err != nil {
		return out, fmt.Errorf("recording the copy: %w", err)
	}
	return out, nil
}

// emptyForCopy checks that the database holds nothing but an earlier copy
// not written to since, and empties it.
func emptyForCopy(ctx context.Context, tx pgx.Tx) error {
	now, err := countRecords(ctx, tx)
	if err != nil {
		return err
	}
	var prev migrated
	found, err := getMeta(ctx, tx, keyMigrated, &prev)
	if err != nil {
		return fmt.Errorf("reading the record of an earlier copy: %w", err)
	}
	total := 0
	for _, n := range now {
		total += n
	}
	var run started
	ran, err := getMeta(ctx, tx, keyStarted, &run)
	if err != nil {
		return fmt.Errorf("reading the record of an instance's start: %w", err)
	}
	switch {
	case total > 0 && !found:
		return fmt.Errorf("%w (%s), not written by mobilise migrate: copy into an empty database", ErrNotEmpty, summary(now))
	case found && !maps.Equal(prev.Counts, now):
		return fmt.Errorf("%w: the copy from %s made %s has been written to since (%s, then %s); instances may be running on it, so it is not overwritten",
			ErrNotEmpty, prev.From, prev.At.Format(time.RFC3339), summary(prev.Counts), summary(now))
	case found && ran:
		return fmt.Errorf("%w: the copy from %s made %s has been written to since: an instance started on it at %s on %s, and what instances wrote would be lost, so it is not overwritten (to copy afresh all the same, drop the database and create it again)",
			ErrNotEmpty, prev.From, prev.At.Format(time.RFC3339), run.At.Format(time.RFC3339), run.Host)
	}
	// an instance started on it before the last copy, still running, holds
	// its leases: advisory locks of other sessions in this database
	var locks int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
		AND granted AND pid <> pg_backend_pid()
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&locks); err != nil {
		return fmt.Errorf("looking for instances running on the database: %w", err)
	}
	if locks > 0 {
		return fmt.Errorf("%w: instances are running on it (leases held: %d): stop them first", ErrNotEmpty, locks)
	}
	if !found {
		// empty: an instance that ran on it wrote nothing the copy counts
		if _, err := tx.Exec(ctx, `DELETE FROM meta WHERE key = $1`, keyStarted); err != nil {
			return fmt.Errorf("clearing the record of an instance's start: %w", err)
		}
		return nil
	}
	// whatsmeow's tables (the WhatsApp device, which may have been linked or
	// copied into the database since the earlier copy) are not the copy's;
	// nor are the media files, which migrate puts in after the copy's
	// transaction and instances as they start: named by their content and
	// never changed, they are kept, as a file already there is
	rows, err := tx.Query(ctx, `SELECT quote_ident(tablename) FROM pg_tables
		WHERE schemaname = current_schema() AND tablename NOT IN ('schema_migrations', 'media_files')
		AND tablename NOT LIKE 'whatsmeow\_%' ORDER BY tablename`)
	if err != nil {
		return err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	// Equal counts do not show that nothing changed (a person's consent, the
	// Telegram offset, a row added where another was pruned): every row the
	// copy wrote bears its transaction's ID, so a row bearing another was
	// written since.
	for _, table := range tables {
		var changed bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+table+` WHERE xmin::text <>
			(SELECT xmin::text FROM meta WHERE key = $1))`, keyMigrated).Scan(&changed); err != nil {
			return fmt.Errorf("looking for rows written since the earlier copy: %w", err)
		}
		if changed {
			return fmt.Errorf("%w: the copy from %s made %s has been written to since (%s); instances may be running on it, so it is not overwritten",
				ErrNotEmpty, prev.From, prev.At.Format(time.RFC3339), table)
		}
	}
	if _, err := tx.Exec(ctx, `TRUNCATE `+strings.Join(tables, ", ")); err != nil {
		return fmt.Errorf("emptying the earlier copy: %w", err)
	}
	return nil
}

// summary words the non-zero counts.
func summary(counts map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		if counts[k] != 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
		}
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// countQueries count the records of each kind of store.CopyKinds.
var countQueries = map[string]string{
	"settings":               `SELECT count(*) FROM (SELECT 1 FROM meta WHERE key = 'telegram_offset') m`,
	"institutions":           `SELECT count(*) FROM institutions`,
	"contacts":               `SELECT count(*) FROM contacts`,
	"addresses":              `SELECT count(*) FROM addresses`,
	"ref_aliases":            `SELECT count(*) FROM ref_aliases`,
	"aliases":                `SELECT count(*) FROM aliases`,
	"campaigns":              `SELECT count(*) FROM campaigns`,
	"campaign_counts":        `SELECT count(*) FROM campaign_counts`,
	"pledges":                `SELECT count(*) FROM pledges`,
	"forgotten_pledges":      `SELECT count(*) FROM forgotten_pledges`,
	"signups":                `SELECT count(*) FROM signups`,
	"watchers":               `SELECT count(*) FROM watchers`,
	"supporters":             `SELECT count(*) FROM supporters`,
	"sessions":               `SELECT count(*) FROM sessions`,
	"audit":                  `SELECT count(*) FROM audit`,
	"handled":                `SELECT count(*) FROM handled`,
	"broadcasts":             `SELECT count(*) FROM broadcasts`,
	"outbox":                 `SELECT count(*) FROM outbox`,
	"outbox_sent":            `SELECT count(*) FROM outbox_sent`,
	"reminders":              `SELECT count(*) FROM reminders`,
	"bulk_sends":             `SELECT count(*) FROM bulk_sends`,
	"link_codes":             `SELECT count(*) FROM link_codes`,
	"pending_links":          `SELECT count(*) FROM pending_links`,
	"link_failures":          `SELECT count(*) FROM link_failures`,
	"referral_credits":       `SELECT count(*) FROM referral_credits`,
	"login_tokens":           `SELECT count(*) FROM login_tokens`,
	"web_sessions":           `SELECT count(*) FROM web_sessions`,
	"polls":                  `SELECT count(*) FROM polls`,
	"poll_counts":            `SELECT count(*) FROM poll_counts`,
	"poll_answers":           `SELECT count(*) FROM poll_answers`,
	"forgotten_poll_answers": `SELECT count(*) FROM forgotten_poll_answers`,
	"poll_asked":             `SELECT count(*) FROM poll_asked`,
	"poll_no_follow_up":      `SELECT count(*) FROM poll_no_follow_up`,
	"calls":                  `SELECT count(*) FROM calls`,
	"latest_calls":           `SELECT count(*) FROM latest_calls`,
	"verify_failures":        `SELECT count(*) FROM verify_failures`,
	"media_uploads":          `SELECT count(*) FROM media_uploads`,
}

// countRecords counts the records of each kind in the database.
func countRecords(ctx context.Context, q querier) (map[string]int, error) {
	out := map[string]int{}
	for _, k := range store.CopyKinds() {
		sql, ok := countQueries[k]
		if !ok {
			return nil, fmt.Errorf("no count of %s", k)
		}
		var n int
		if err := q.QueryRow(ctx, sql).Scan(&n); err != nil {
			return nil, fmt.Errorf("counting %s: %w", k, err)
		}
		out[k] = n
	}
	return out, nil
}

// importer writes batches of records into one transaction.
type importer struct {
	tx pgx.Tx
	// texts are the broadcasts copied, for their entries' text references
	texts map[uint64]*store.Broadcast
	// seqs are the source's sequences, applied once everything is in
	seqs map[string]uint64
}

// copyRows copies rows into table's columns.
func (im *importer) copyRows(ctx context.Context, table string, columns []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if _, err := im.tx.CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("copying %d rows into %s: %w", len(rows), table, err)
	}
	return nil
}

// rowsOf builds one row per record.
func rowsOf[T any](recs []T, row func(*T) ([]any, error)) ([][]any, error) {
	out := make([][]any, 0, len(recs))
	for i := range recs {
		r, err := row(&recs[i])
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// copyKind copies recs into table, a row each.
func copyKind[T any](ctx context.Context, im *importer, recs []T, table string, columns []string, row func(*T) ([]any, error)) error {
	rows, err := rowsOf(recs, row)
	if err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	return im.copyRows(ctx, table, columns, rows)
}

// asJSON encodes v for a jsonb column.
func asJSON(v any) ([]byte, error) {
	buf, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding %T: %w", v, err)
	}
	return buf, nil
}

// jsonRow is a row of an ID and a record.
func jsonRow(id uint64, rec any) ([]any, error) {
	buf, err := asJSON(rec)
	return []any{int64(id), buf}, err
}

func (im *importer) put(ctx context.Context, r *store.Records) error {
	if r.Settings != nil {
		if err := im.settings(ctx, r.Settings); err != nil {
			return fmt.Errorf("the settings: %w", err)
		}
	}
	steps := []func(context.Context, *store.Records) error{
		im.institutions, im.contacts, im.aliases, im.campaigns, im.pairs, im.lists, im.conversations,
		im.outbox, im.schedules, im.links, im.signIns, im.polls, im.calls,
	}
	for _, step := range steps {
		if err := step(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

func (im *importer) settings(ctx context.Context, st *store.Settings) error {
	im.seqs = st.Sequences
	if err := putMeta(ctx, im.tx, keyTelegramOffset, st.TelegramOffset); err != nil {
		return err
	}
	if len(st.AddressKey) > 0 {
		if err := putMeta(ctx, im.tx, keyAddress, st.AddressKey); err != nil {
			return err
		}
	}
	if st.Pause != (store.Pause{}) {
		p := st.Pause
		p.At = p.At.UTC()
		if err := putMeta(ctx, im.tx, keyPause, p); err != nil {
			return err
		}
	}
	for ch, until := range st.Throttled {
		if _, err := im.tx.Exec(ctx, `INSERT INTO throttles (channel, until_ns) VALUES ($1, $2)`, string(ch), until.UnixNano()); err != nil {
			return err
		}
	}
	return nil
}

func (im *importer) institutions(ctx context.Context, r *store.Records) error {
	return copyKind(ctx, im, r.Institutions, "institutions", []string{"id", "code", "status", "record"},
		func(inst *store.Institution) ([]any, error) {
			var code *string
			if c := normCode(inst.Code); c != "" {
				code = &c
			}
			rec, err := asJSON(inst)
			return []any{int64(inst.ID), code, string(inst.Status), rec}, err
		})
}

// contacts copies the contacts with the columns derived from them, their
// addresses and the index of their affiliations.
func (im *importer) contacts(ctx context.Context, r *store.Records) error {
	var addrs, people [][]any
	err := copyKind(ctx, im, r.Contacts, "contacts", []string{"id", "ref_code", "record", "reachable",
		"preferred_channel", "reach_channels", "governorate", "lang", "member", "created_at"},
		func(c *store.Contact) ([]any, error) {
			var seen []string
			for _, a := range c.Addresses {
				if !a.Valid() {
					return nil, fmt.Errorf("contact %d: address %q: want channel:id", c.ID, a)
				}
				if !slices.Contains(seen, a.String()) {
					seen = append(seen, a.String())
					addrs = append(addrs, []any{a.String(), int64(c.ID)})
				}
			}
			for _, a := range uniqueAffiliations(c.Affiliations) {
				rec, err := asJSON(a)
				if err != nil {
					return nil, err
				}
				people = append(people, []any{int64(a.InstitutionID), int64(c.ID), rec})
			}
			d := derive(c)
			rec, err := asJSON(c)
			return []any{int64(c.ID), c.RefCode, rec, d.reachable, d.preferred, d.channels, c.Governorate,
				d.lang, d.member, c.CreatedAt.UTC()}, err
		})
	if err != nil {
		return err
	}
	if err := im.copyRows(ctx, "addresses", []string{"address", "contact_id"}, addrs); err != nil {
		return err
	}
	return im.copyRows(ctx, "institution_people", []string{"institution_id", "contact_id", "affiliation"}, people)
}

func (im *importer) aliases(ctx context.Context, r *store.Records) error {
	err := copyKind(ctx, im, r.RefAliases, "ref_aliases", []string{"code", "contact_id"},
		func(a *store.RefAlias) ([]any, error) { return []any{normCode(a.Code), int64(a.ContactID)}, nil })
	if err != nil {
		return err
	}
	return copyKind(ctx, im, r.Aliases, "aliases", []string{"id", "contact_id"},
		func(a *store.Alias) ([]any, error) { return []any{int64(a.ID), int64(a.ContactID)}, nil })
}

func (im *importer) campaigns(ctx context.Context, r *store.Records) error {
	err := copyKind(ctx, im, r.Campaigns, "campaigns", []string{"id", "code", "record"},
		func(c *store.Campaign) ([]any, error) {
			rec, err := asJSON(c)
			return []any{int64(c.ID), normCode(c.Code), rec}, err
		})
	if err != nil {
		return err
	}
	return copyKind(ctx, im, r.CampaignCounts, "campaign_counts", []string{"campaign_id", "pledges", "signups"},
		func(c *store.CampaignCounts) ([]any, error) {
			return []any{int64(c.CampaignID), c.Pledges, c.Signups}, nil
		})
}

// pairs copies pledges, an anonymous one as a forgotten pledge, and sign-ups.
func (im *importer) pairs(ctx context.Context, r *store.Records) error {
	var pledges, forgotten [][]any
	for _, p := range r.Pledges {
		if p.ContactID == 0 {
			forgotten = append(forgotten, []any{int64(p.CampaignID), p.At.UTC(), int64(p.Institution)})
			continue
		}
		pledges = append(pledges, []any{int64(p.CampaignID), int64(p.ContactID), p.At.UTC(), string(p.Channel),
			p.Governorate, p.Lang, int64(p.ReferredBy), int64(p.Institution)})
	}
	pairCols := strings.Split(strings.ReplaceAll(pairColumns, " ", ""), ",")
	if err := im.copyRows(ctx, "pledges", pairCols, pledges); err != nil {
		return err
	}
	if err := im.copyRows(ctx, "forgotten_pledges", []string{"campaign_id", "at", "institution"}, forgotten); err != nil {
		return err
	}
	return copyKind(ctx, im, r.Signups, "signups", pairCols, func(su *store.Signup) ([]any, error) {
		return []any{int64(su.CampaignID), int64(su.ContactID), su.At.UTC(), string(su.Channel),
			su.Governorate, su.Lang, int64(su.ReferredBy), int64(su.Institution)}, nil
	})
}

// lists copies the people waiting for campaigns and on institutions' lists.
func (im *importer) lists(ctx context.Context, r *store.Records) error {
	err := copyKind(ctx, im, r.Watchers, "watchers", []string{"campaign_id", "contact_id", "at"},
		func(w *store.Watch) ([]any, error) {
			return []any{int64(w.CampaignID), int64(w.ContactID), w.At.UTC()}, nil
		})
	if err != nil {
		return err
	}
	return copyKind(ctx, im, r.Supporters, "supporters", []string{"institution_id", "contact_id", "support", "active"},
		func(sp *store.Support) ([]any, error) {
			rec, err := asJSON(sp)
			return []any{int64(sp.InstitutionID), int64(sp.ContactID), rec, sp.Active()}, err
		})
}

// conversations copies the sessions in progress, the audit log and the
// updates already handled.
func (im *importer) conversations(ctx context.Context, r *store.Records) error {
	err := copyKind(ctx, im, r.Sessions, "sessions", []string{"contact_id", "record"},
		func(s *store.ContactSession) ([]any, error) { return jsonRow(s.ContactID, &s.Session) })
	if err != nil {
		return err
	}
	err = copyKind(ctx, im, r.Audit, "audit", []string{"id", "record"},
		func(a *store.AuditEntry) ([]any, error) { return jsonRow(a.ID, a) })
	if err != nil {
		return err
	}
	return copyKind(ctx, im, r.Handled, "handled", []string{"channel", "id", "at"},
		func(h *store.HandledUpdate) ([]any, error) { return []any{string(h.Channel), h.ID, h.At.UTC()}, nil })
}

// outbox copies the broadcasts, then the messages queued, each where the
// bbolt store kept it (its lane, whether it counts for its broadcast, its
// attempts and when it may go), then the counts of bulk messages sent.
func (im *importer) outbox(ctx context.Context, r *store.Records) error {
	err := copyKind(ctx, im, r.Broadcasts, "broadcasts", []string{"id", "record"},
		func(b *store.Broadcast) ([]any, error) {
			im.texts[b.ID] = &store.Broadcast{ID: b.ID, TextAR: b.TextAR, TextEN: b.TextEN}
			return jsonRow(b.ID, b)
		})
	if err != nil {
		return err
	}
	err = copyKind(ctx, im, r.Outbox, "outbox", outboxColumns, func(q *store.QueuedEntry) ([]any, error) {
		e := q.OutboxEntry
		if e.Channel == "" {
			e.Channel = e.To.Channel
		}
		var b *store.Broadcast // its texts, to refer to: only for the entries that count for it, as queued
		if q.Counts {
			if b = im.texts[e.BroadcastID]; b == nil {
				return nil, fmt.Errorf("outbox entry %d counts for broadcast %d, which is not there", e.ID, e.BroadcastID)
			}
		}
		return entryRow(&e, b, q.Counts)
	})
	if err != nil {
		return err
	}
	return copyKind(ctx, im, r.OutboxSent, "outbox_sent", []string{"channel", "minute", "n"},
		func(m *store.SentMinute) ([]any, error) { return []any{string(m.Channel), m.Minute.UTC(), m.N}, nil })
}

// schedules copies the reminders and the ledger of bulk sends.
func (im *importer) schedules(ctx context.Context, r *store.Records) error {
	err := copyKind(ctx, im, r.Reminders, "reminders", []string{"id", "due_at", "record"},
		func(rem *store.Reminder) ([]any, error) {
			rec, err := asJSON(rem)
			return []any{int64(rem.ID), dueAt(rem), rec}, err
		})
	if err != nil {
		return err
	}
	return copyKind(ctx, im, r.BulkSends, "bulk_sends", []string{"author", "at_ns", "record"},
		func(b *store.BulkSend) ([]any, error) {
			b.At = b.At.UTC()
			rec, err := asJSON(b)
			return []any{int64(b.Author), b.At.UnixNano(), rec}, err
		})
}

// links copies the codes of /link, pending links, and the marks kept under
// address marks.
func (im *importer) links(ctx context.Context, r *store.Records) error {
	err := copyKind(ctx, im, r.LinkCodes, "link_codes", []string{"contact_id", "code", "expires"},
		func(c *store.LinkCode) ([]any, error) { return []any{int64(c.ContactID), c.Code, c.Expires.UTC()}, nil })
	if err != nil {
		return err
	}
	err = copyKind(ctx, im, r.PendingLinks, "pending_links", []string{"token", "record"},
		func(p *store.TokenPendingLink) ([]any, error) {
			p.Expires = p.Expires.UTC()
			rec, err := asJSON(&p.PendingLink)
			return []any{p.Token, rec}, err
		})
	if err != nil {
		return err
	}
	err = copyKind(ctx, im, r.LinkFailures, "link_failures", []string{"mark", "times"},
		func(m *store.MarkTimes) ([]any, error) { return []any{m.Mark, m.Times}, nil })
	if err != nil {
		return err
	}
	return copyKind(ctx, im, r.Referrals, "referral_credits", []string{"mark"},
		func(m *[]byte) ([]any, error) { return []any{*m}, nil })
}

func (im *importer) signIns(ctx context.Context, r *store.Records) error {
	err := copyKind(ctx, im, r.LoginTokens, "login_tokens", []string{"hash", "contact_id", "token", "expires"},
		func(t *store.HashLoginToken) ([]any, error) {
			t.Expires = t.Expires.UTC()
			rec, err := asJSON(&t.LoginToken)
			return []any{t.Hash, int64(t.ContactID), rec, t.Expires}, err
		})
	if err != nil {
		return err
	}
	return copyKind(ctx, im, r.WebSessions, "web_sessions", []string{"hash", "contact_id", "session", "expires"},
		func(w *store.HashWebSession) ([]any, error) {
			w.Expires = w.Expires.UTC()
			rec, err := asJSON(&w.WebSession)
			return []any{w.Hash, int64(w.ContactID), rec, w.Expires}, err
		})
}

// polls copies the polls, indexed as CreatePoll indexes them, their
// counters, answers and the marks of whom they were queued for.
func (im *importer) polls(ctx context.Context, r *store.Records) error {
	err := copyKind(ctx, im, r.Polls, "polls", []string{"id", "by_broadcast", "attendance_of", "record"},
		func(p *store.Poll) ([]any, error) {
			var byBroadcast uint64
			var attendanceOf *int64
			switch {
			case p.Kind == store.PollAttendance:
				c := int64(p.CampaignID)
				attendanceOf = &c
			case p.BroadcastID != 0:
				byBroadcast = p.BroadcastID
			}
			rec, err := asJSON(p)
			return []any{int64(p.ID), int64(byBroadcast), attendanceOf, rec}, err
		})
	if err != nil {
		return err
	}
	err = copyKind(ctx, im, r.PollCounts, "poll_counts", []string{"poll_id", "asked", "options"},
		func(c *store.PollCountsOf) ([]any, error) {
			options := make([]int32, len(c.Options))
			for i, n := range c.Options {
				options[i] = int32(n)
			}
			return []any{int64(c.PollID), c.Asked, options}, nil
		})
	if err != nil {
		return err
	}
	if err := im.pollAnswers(ctx, r.PollAnswers); err != nil {
		return err
	}
	err = copyKind(ctx, im, r.PollAsked, "poll_asked", []string{"poll_id", "contact_id", "at"},
		func(a *store.PollAsk) ([]any, error) {
			return []any{int64(a.PollID), int64(a.ContactID), a.At.UTC()}, nil
		})
	if err != nil {
		return err
	}
	return copyKind(ctx, im, r.NoFollowUp, "poll_no_follow_up", []string{"campaign_id"},
		func(id *uint64) ([]any, error) { return []any{int64(*id)}, nil })
}

// calls copies the codes of genuine calls, the latest of each broadcast
// and reminder, the wrong codes asked about, and the platforms' references
// to uploaded files.
func (im *importer) calls(ctx context.Context, r *store.Records) error {
	err := copyKind(ctx, im, r.Calls, "calls", []string{"code", "call"},
		func(c *store.Call) ([]any, error) {
			c.At = c.At.UTC()
			rec, err := asJSON(c)
			return []any{c.Code, rec}, err
		})
	if err != nil {
		return err
	}
	err = copyKind(ctx, im, r.LatestCalls, "latest_calls", []string{"kind", "ref_id", "code"},
		func(l *store.LatestCall) ([]any, error) { return []any{l.Kind, int64(l.RefID), l.Code}, nil })
	if err != nil {
		return err
	}
	err = copyKind(ctx, im, r.VerifyFailures, "verify_failures", []string{"mark", "times"},
		func(m *store.MarkTimes) ([]any, error) { return []any{m.Mark, m.Times}, nil })
	if err != nil {
		return err
	}
	return copyKind(ctx, im, r.Uploads, "media_uploads", []string{"account", "sha256", "upload"},
		func(u *store.AccountUpload) ([]any, error) {
			rec, err := asJSON(&uploadRecord{Ref: u.Ref, At: u.At.UTC(), Expires: u.Expires.UTC()})
			return []any{u.Account, u.SHA, rec}, err
		})
}

// identities are the tables whose IDs come from a sequence, with the name
// of the source's sequence for each.
var identities = []struct{ table, column, source string }{
	{"contacts", "id", "contacts"}, {"institutions", "id", "institutions"}, {"campaigns", "id", "campaigns"},
	{"broadcasts", "id", "broadcasts"}, {"reminders", "id", "reminders"}, {"polls", "id", "polls"},
	{"audit", "id", "audit"}, {"outbox", "id", "outbox"},
}

// sequences moves each identity past the highest ID copied and the
// source's sequence, whichever is further: an ID a deleted record had is
// not given again.
func (im *importer) sequences(ctx context.Context) error {
	for _, id := range identities {
		next := int64(im.seqs[id.source])
		var top int64
		if err := im.tx.QueryRow(ctx, `SELECT coalesce(max(`+id.column+`), 0) FROM `+id.table).Scan(&top); err != nil {
			return err
		}
		next = max(next, top)
		if next == 0 {
			continue
		}
		if _, err := im.tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), $3)`, id.table, id.column, next); err != nil {
			return fmt.Errorf("%s: %w", id.table, err)
		}
	}
	return nil
}

// pollAnswers copies the answers with the columns the results read, an
// anonymous one as a forgotten answer.
func (im *importer) pollAnswers(ctx context.Context, answers []store.PollAnswer) error {
	var named, forgotten [][]any
	for _, a := range answers {
		if a.ContactID == 0 {
			forgotten = append(forgotten, []any{int64(a.PollID), a.Option, a.At.UTC(), int64(a.Institution)})
			continue
		}
		campaigns := make([]int64, 0, len(a.Campaigns))
		for _, c := range a.Campaigns {
			campaigns = append(campaigns, int64(c))
		}
		a.At = a.At.UTC()
		rec, err := asJSON(&a)
		if err != nil {
			return err
		}
		named = append(named, []any{int64(a.PollID), int64(a.ContactID), a.Option, a.Governorate, a.Lang,
			string(a.Channel), campaigns, rec})
	}
	err := im.copyRows(ctx, "poll_answers", []string{"poll_id", "contact_id", "option", "governorate",
		"lang", "channel", "campaigns", "answer"}, named)
	if err != nil {
		return err
	}
	return im.copyRows(ctx, "forgotten_poll_answers", []string{"poll_id", "option", "at", "institution"}, forgotten)
}
