package postgres

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

// TestConstraints writes past the store's methods, straight into the
// tables: the database itself refuses a second contact at an address, a
// share code or campaign code twice, a second pledge of a person to a
// campaign, a pledge of no one, and an outbox entry in no lane.
func TestConstraints(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	exec := func(sql string, args ...any) error {
		_, err := s.pool.Exec(ctx, sql, args...)
		return err
	}
	violates := func(err error, code, constraint string) {
		t.Helper()
		var pe *pgconn.PgError
		require.True(t, errors.As(err, &pe), "%v", err)
		require.Equal(t, code, pe.Code, "%v", err)
		require.Equal(t, constraint, pe.ConstraintName)
	}
	contact := `INSERT INTO contacts (ref_code, record, reachable, created_at) VALUES ($1, '{}', false, now()) RETURNING id`
	var a, b int64
	require.NoError(t, s.pool.QueryRow(ctx, contact, "aaaaaaa").Scan(&a))
	require.NoError(t, s.pool.QueryRow(ctx, contact, "bbbbbbb").Scan(&b))
	violates(exec(contact, "aaaaaaa"), "23505", "contacts_ref_code_key")
	violates(exec(`UPDATE contacts SET lang = 'fr' WHERE id = $1`, a), "23514", "contacts_lang_check")

	require.NoError(t, exec(`INSERT INTO addresses (address, contact_id) VALUES ('telegram:1', $1)`, a))
	violates(exec(`INSERT INTO addresses (address, contact_id) VALUES ('telegram:1', $1)`, b), "23505", "addresses_pkey")
	violates(exec(`INSERT INTO addresses (address, contact_id) VALUES ('telegram:2', 999)`), "23503", "addresses_contact_id_fkey")

	var c int64
	require.NoError(t, s.pool.QueryRow(ctx, `INSERT INTO campaigns (code, record) VALUES ('peace', '{}') RETURNING id`).Scan(&c))
	violates(exec(`INSERT INTO campaigns (code, record) VALUES ('peace', '{}')`), "23505", "campaigns_code_key")

	pledge := `INSERT INTO pledges (campaign_id, contact_id, at) VALUES ($1, $2, now())`
	require.NoError(t, exec(pledge, c, a))
	require.NoError(t, exec(pledge, c, b))
	violates(exec(pledge, c, a), "23505", "pledges_pkey")
	violates(exec(pledge, c, 999), "23503", "pledges_contact_id_fkey")
	violates(exec(pledge, 999, a), "23503", "pledges_campaign_id_fkey")

	entry := `INSERT INTO outbox (channel, lane, entry, counts, broadcast_id) VALUES ('telegram', $1, '{}', $2, 0)`
	require.NoError(t, exec(entry, 0, false))
	violates(exec(entry, 5, false), "23514", "outbox_lane_check")
	violates(exec(entry, 1, true), "23514", "outbox_counts_check")
}
