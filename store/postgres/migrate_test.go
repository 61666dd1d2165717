package postgres

import (
	"context"
	"github.com/golang-migrate/migrate/v4"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"mobilise/store"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

// schemaObjects are what each migration adds to the public schema, as
// "kind name" (kinds: table, index, constraint, sequence, function,
// trigger), besides golang-migrate's own schema_migrations.
var schemaObjects = map[int][]string{
	1: {
		"table contacts", "table addresses", "table campaigns", "table campaign_counts", "table pledges",
		"sequence contacts_id_seq", "sequence campaigns_id_seq",
		"constraint contacts_pkey", "constraint contacts_ref_code_key", "constraint contacts_lang_check",
		"constraint addresses_pkey", "constraint addresses_contact_id_fkey",
		"constraint campaigns_pkey", "constraint campaigns_code_key",
		"constraint campaign_counts_pkey", "constraint campaign_counts_campaign_id_fkey",
		"constraint pledges_pkey", "constraint pledges_campaign_id_fkey", "constraint pledges_contact_id_fkey",
		"index contacts_pkey", "index contacts_ref_code_key", "index contacts_reach_idx", "index contacts_governorate_idx", "index contacts_lang_idx",
		"index contacts_member_idx", "index addresses_pkey", "index addresses_contact_idx", "index campaigns_pkey",
		"index campaigns_code_key", "index campaign_counts_pkey", "index pledges_pkey", "index pledges_contact_idx",
	},
	2: {
		"table broadcasts", "table outbox", "sequence broadcasts_id_seq", "sequence outbox_id_seq",
		"constraint broadcasts_pkey", "constraint outbox_pkey", "constraint outbox_lane_check",
		"constraint outbox_text_ref_check", "constraint outbox_counts_check",
		"index broadcasts_pkey", "index outbox_pkey", "index outbox_lane_idx", "index outbox_broadcast_idx",
		"table outbox_sent", "constraint outbox_sent_pkey", "index outbox_sent_pkey",
		"function outbox_notify", "trigger outbox_queued",
	},
}

// through is every object of the migrations up to version v, sorted.
func through(v int) []string {
	var out []string
	for i, objs := range schemaObjects {
		if i <= v {
			out = append(out, objs...)
		}
	}
	slices.Sort(out)
	return out
}

// migrationVersions are the versions of the embedded migrations, in order
// (golang-migrate allows gaps between them).
func migrationVersions(t *testing.T) []int {
	t.Helper()
	names, err := fs.Glob(migrationFiles, "migrations/*.up.sql")
	require.NoError(t, err)
	var out []int
	for _, name := range names {
		v, err := strconv.Atoi(strings.SplitN(path.Base(name), "_", 2)[0])
		require.NoError(t, err, name)
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// objects lists the public schema's objects, as schemaObjects names them.
func objects(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
		SELECT 'table ' || tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'
		UNION ALL SELECT 'index ' || indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'schema_migrations'
		UNION ALL SELECT 'constraint ' || c.conname FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
			JOIN pg_namespace n ON n.oid = r.relnamespace WHERE n.nspname = 'public' AND r.relname <> 'schema_migrations'
		UNION ALL SELECT 'sequence ' || sequencename FROM pg_sequences WHERE schemaname = 'public'
		UNION ALL SELECT 'function ' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
		UNION ALL SELECT 'trigger ' || t.tgname FROM pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid
			JOIN pg_namespace n ON n.oid = r.relnamespace WHERE n.nspname = 'public' AND NOT t.tgisinternal
		ORDER BY 1`)
	require.NoError(t, err)
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	if out == nil {
		out = []string{}
	}
	return out
}

// unmigrated opens a store on the empty database at u without migrating
// it, with its pool and its migrator, all closed when the test ends: a
// test moves the schema with the migrator.
func unmigrated(t *testing.T, u string) (*Store, *pgxpool.Pool, *migrate.Migrate) {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), u)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s := &Store{pool: pool, now: time.Now}
	m, err := s.migrator()
	require.NoError(t, err)
	t.Cleanup(func() {
		srcErr, dbErr := m.Close()
		require.NoError(t, srcErr)
		require.NoError(t, dbErr)
	})
	return s, pool, m
}

// TestMigrations applies each migration, checks what it made, reverses it,
// checks it is all gone, and applies it again; then Open on the migrated
// database changes nothing, and one newer than the program is refused.
func TestMigrations(t *testing.T) {
	u := newDatabase(t)
	ctx := context.Background()
	_, pool, m := unmigrated(t, u)
	require.Equal(t, []string{}, objects(t, pool))
	versions := migrationVersions(t)
	require.Equal(t, SchemaVersion, versions[len(versions)-1], "SchemaVersion is the newest migration")
	for _, v := range versions {
		require.NotEmpty(t, schemaObjects[v], "migration %d has no expected objects listed", v)
		require.NoError(t, m.Steps(1), "up to %d", v)
		require.Equal(t, through(v), objects(t, pool), "after migration %d up", v)
		require.NoError(t, m.Steps(-1), "down from %d", v)
		want := through(v - 1) // versions may have gaps: the previous one is what is left
		if want == nil {
			want = []string{}
		}
		require.Equal(t, want, objects(t, pool), "after migration %d down", v)
		require.NoError(t, m.Steps(1), "up to %d again", v)
		require.Equal(t, through(v), objects(t, pool), "after migration %d up again", v)
		got, dirty, err := m.Version()
		require.NoError(t, err)
		require.False(t, dirty)
		require.Equal(t, uint(v), got)
	}

	again, err := Open(ctx, u)
	require.NoError(t, err)
	again.Close()
	require.Equal(t, through(SchemaVersion), objects(t, pool))

	_, err = pool.Exec(ctx, `UPDATE schema_migrations SET version = $1`, SchemaVersion+1)
	require.NoError(t, err)
	_, err = Open(ctx, u)
	require.ErrorIs(t, err, store.ErrSchemaTooNew)
}
