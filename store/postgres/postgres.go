// Package postgres keeps the bot's data in PostgreSQL, behind the same
// operations, types and errors as the bbolt store (package store), so one
// installation can run on a database server shared by several instances.
// It holds every operation of store.Backend: people and their consent,
// campaigns, pledges and their counters, audiences, the outbox with its
// broadcasts, reminders, conversations, the audit log; member
// institutions, the people who act for them and their supporters; the
// dashboard's sign-ins; polls; the codes of genuine calls; the platforms'
// references to uploaded files, and the files themselves. What only a
// bbolt file has (its snapshot, backup, check and compaction) it has not:
// PostgreSQL's own tools do that. Import copies a bbolt file in
// (import.go), and the leases of lease.go choose the instance that runs
// each singleton.
//
// Schema (migrations/NNNN_name.up.sql, applied by Open with golang-migrate,
// which records the version in schema_migrations; versions may have gaps):
//
//	contacts         id identity PK                 one person. record is the whole Contact as JSON (the
//	                                                snake_case tags of store.Contact); the other columns are
//	                                                derived from it on every write, for audiences to read:
//	                 ref_code UNIQUE                the person's share code (contacts_ref_code_key)
//	                 reachable                      consented, not stopped, and an address not marked unreachable
//	                 preferred_channel, reach_channels   the reach signature: preferred channel and the channels of
//	                                                the usable addresses, in order, each once
//	                 governorate, lang, member      audience segments: lang as messages reads it ("ar" unless
//	                                                English), member when the person represents an institution
//	                 contacts_reach_idx (id), contacts_governorate_idx, contacts_lang_idx, contacts_member_idx:
//	                                                partial indexes of the reachable people, each including the
//	                                                reach signature, so an audience is counted from one index
//	addresses        address PK → contact_id        one contact per address (addresses_pkey); "channel:id"
//	campaigns        id identity PK, code UNIQUE    record is the Campaign as JSON; code lower case (campaigns_code_key)
//	campaign_counts  campaign_id PK → campaigns     Counts, moved in the transaction of every pledge: the row's lock
//	                                                orders the pledges of one campaign, so the count a pledge sees is exact
//	pledges          (campaign_id, contact_id) PK   one pledge per person per campaign (pledges_pkey);
//	                                                pledges_contact_idx finds a person's pledges
//	broadcasts       id identity PK                 record is the Broadcast as JSON, its counters moved in the
//	                                                transaction that removes each of its outbox entries
//	outbox           id PK from outbox_id_seq       one message to send; id orders every message ever queued.
//	                 channel, lane                  lane 0 notices, 1 bulk, 2 parked (a suspended broadcast's);
//	                                                outbox_lane_idx (channel, lane, id) is the dispatchers' scan
//	                 broadcast_id, counts           the broadcast the entry names, and whether it counts towards it
//	                                                (QueueBroadcast's entries); outbox_broadcast_idx lists those
//	                 text_ref                       "ar"/"en": the text is the broadcast's TextAR/TextEN, read when sent
//	                 entry                          the rest of the OutboxEntry as JSON
//	                 attempts, not_before, started, last_error   the entry's fields a dispatcher changes
//	                 lease_until                    set by ClaimOutbox, ClaimOutboxEntry: until then no other claim takes the entry;
//	                                                a claim not acknowledged by then is taken again
//	outbox_sent      (channel, minute) PK → n        bulk messages sent per minute, for daily caps; rows older
//	                                                than 48 hours are pruned as new ones are written
//	institutions     id identity PK                 record is the Institution as JSON; status is the record's
//	                 code UNIQUE, NULL for none     the share code index (institutions_code_key), lower case, set by
//	                                                UpdateInstitution and AssignInstitutionCode
//	institution_people (institution_id, contact_id) PK   the index of the contacts' Affiliations, the Affiliation as
//	                                                JSON, written in the transaction of the contact's update
//	supporters       (institution_id, contact_id) PK   one person on one institution's list, the Support as JSON;
//	                 active                         on the list now (supporters_active_idx); the record of leaving stays
//	login_tokens     hash PK                        a one-time sign-in link under sha256 of its secret, taken by a DELETE
//	web_sessions     hash PK                        a signed-in browser; both keep contact_id and expires for
//	                                                ending and pruning them
//	polls            id identity PK                 record is the Poll as JSON; by_broadcast and attendance_of
//	                                                (UNIQUE: polls_attendance_key) index it as created
//	poll_counts      poll_id PK → polls             asked and the answers per option, moved in the transaction of
//	                                                every answer: the row's lock orders one poll's answers
//	poll_answers     (poll_id, contact_id) PK       one answer per person per poll, its details in columns for the
//	                                                results; poll_answers_option_idx is the audience of an option
//	poll_asked       (poll_id, contact_id) PK       when the poll was queued for the person, to the second
//	forgotten_poll_answers id identity PK → polls   the answer of a person ForgetContact erased: its option, time
//	                                                and institution credited, nothing of the person; listed after
//	                                                the option's other answers (forgotten_poll_answers_option_idx)
//	poll_no_follow_up campaign_id PK → campaigns    campaigns whose question after their event is switched off
//	calls            code PK                        a genuine call as JSON; a code is never used twice
//	latest_calls     (kind, ref_id) PK → calls      the latest code of a broadcast or reminder
//	verify_failures  mark PK                        unix seconds of the wrong codes asked about from an address
//	media_uploads    (account, sha256) PK           a platform's reference to an uploaded file, as JSON
//	media_files      sha256 PK                      a poster, PDF or video: its content (bytea, stored EXTERNAL,
//	                                                uncompressed), first name, type and size; never changed
//
// Migrations 10, 11 and 13 to 16 (sessions, settings and handled updates;
// reminders; sign-ups and forgotten pledges; the audit log, the bulk-send
// ledger and watchers; link codes; aliases of merged contacts) are
// described in meta.go, reminders.go, pledges_more.go, audit.go,
// linkcodes.go and link.go. Reads of several queries (RecipientsPage,
// CampaignStats, ActivityByDay) not given a transaction run in a read-only
// one at REPEATABLE READ, so they see one state of the database, as a
// bbolt read does.
//
// An insert into outbox notifies "mobilise_outbox" with the channel's name
// (trigger outbox_queued, once per channel per statement, delivered when
// the transaction commits): ListenOutbox wakes on it.
//
// Records in JSON keep times to the nanosecond; times in columns (a
// pledge's At, an entry's NotBefore and Started, leases) to the
// microsecond, as PostgreSQL keeps them.
//
// Every operation runs in a transaction of its own at READ COMMITTED, or
// joins the one InTx put in its context. Each takes the row locks its rule
// needs (the campaign's counter row, a contact's row, a broadcast's row),
// and uniqueness is the constraints' to enforce, so concurrent instances
// keep the same rules as one bbolt file does.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"time"

	"mobilise/store"

	"github.com/golang-migrate/migrate/v4"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// migrationFiles are the schema's migrations, NNNN_name.up.sql and .down.sql.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// SchemaVersion is the newest migration this program knows.
const SchemaVersion = 26

// ErrUnsupported means the operation, or the audience asked for, is one
// the PostgreSQL store does not have yet.
var ErrUnsupported = errors.New("not supported by the PostgreSQL store yet")

// Store is the bot's PostgreSQL database. Its methods are safe for
// concurrent use.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
	// sent shares the commits of OutboxDone between the sends recorded at once
	sent *batcher
}

type options struct {
	now      func() time.Time
	maxConns int32
}

// Option configures Open.
type Option func(*options)

// WithNow sets the clock for the times the store stamps itself, as
// store.WithNow does, and for outbox leases. Default time.Now.
func WithNow(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithMaxConns sets how many connections the pool opens at most; default 16.
func WithMaxConns(n int32) Option {
	return func(o *options) {
		if n > 0 {
			o.maxConns = n
		}
	}
}

// Open connects to the database at url (postgres://…) and applies the
// pending migrations. A database whose schema is newer than this program's
// gives an error wrapping store.ErrSchemaTooNew.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	o := options{now: time.Now, maxConns: 16}
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("reading the URL: %w", err)
	}
	cfg.MaxConns = o.maxConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting: %w", err)
	}
	s := &Store{pool: pool, now: o.now, sent: newBatcher()}
	if err := s.migrateUp(); err != nil {
		pool.Close()
		return nil, fmt.Errorf("applying the schema: %w", err)
	}
	return s, nil
}

// Close closes the pool's connections, once the calls in flight return.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// migrateUp applies the pending migrations.
func (s *Store) migrateUp() (err error) {
	m, err := s.migrator()
	if err != nil {
		return err
	}
	defer func() {
		srcErr, dbErr := m.Close()
		err = errors.Join(err, srcErr, dbErr)
	}()
	if v, dirty, err := m.Version(); err == nil && (v > SchemaVersion || dirty) {
		if dirty {
			return fmt.Errorf("schema migration %d failed half-way: repair the schema by hand, then mark it done with golang-migrate's own command (migrate -database URL force %d; not mobilise migrate)", v, v)
		}
		return fmt.Errorf("schema version %d: %w", v, store.ErrSchemaTooNew)
	} else if err != nil && !errors.Is(err, migrate.ErrNilVersion) {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrating: %w", err)
	}
	return nil
}

// migrator opens golang-migrate on the embedded migrations, over a
// database/sql connection of its own made from the pool's configuration.
// It takes an advisory lock while it migrates, so instances starting
// together migrate once.
func (s *Store) migrator() (*migrate.Migrate, error) {
	src, err := iofs.New(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("reading migrations: %w", err)
	}
	db := stdlib.OpenDB(*s.pool.Config().ConnConfig)
	drv, err := migratepgx.WithInstance(db, &migratepgx.Config{})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("preparing migrations: %w", err), db.Close(), src.Close())
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", drv)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("preparing migrations: %w", err), drv.Close(), src.Close())
	}
	return m, nil
}

var _ store.Backend = (*Store)(nil)
