package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"mobilise/store"

	"github.com/jackc/pgx/v5"
)

// Schema, migration 14:
//
//	audit       id identity PK                 record is the AuditEntry as JSON; IDs in the order the entries were
//	                                           appended, oldest first
//	bulk_sends  seq identity PK                record is the BulkSend as JSON; author and at_ns (its At in unix
//	                                           nanoseconds) for bulk_sends_author_idx, the ledger's scan
//	watchers    (campaign_id, contact_id) PK   one request per person per campaign (watchers_pkey); deleted with
//	                                           the contact or the campaign

// auditPage is how many entries Audit reads at a time.
const auditPage = 500

// AppendAudit records a privileged action, setting its ID and, if zero,
// At, as store.Store.AppendAudit does.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.stamp()
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO audit (record) VALUES ('{}') RETURNING id`).Scan(&e.ID); err != nil {
			return err
		}
		buf, err := json.Marshal(&e)
		if err != nil {
			return fmt.Errorf("encoding the entry: %w", err)
		}
		_, err = tx.Exec(ctx, `UPDATE audit SET record = $2 WHERE id = $1`, e.ID, buf)
		return err
	})
	if err != nil {
		return fmt.Errorf("recording %s by contact %d: %w", e.Action, e.ActorID, err)
	}
	return nil
}

// Audit calls fn for each audit entry in ID order, oldest first, stopping
// at fn's first error, which it returns as it is. fn runs outside any
// transaction.
func (s *Store) Audit(ctx context.Context, fn func(*store.AuditEntry) error) error {
	var after int64
	for {
		rows, err := s.q(ctx).Query(ctx, `SELECT id, record FROM audit WHERE id > $1 ORDER BY id LIMIT $2`, after, auditPage)
		if err != nil {
			return fmt.Errorf("reading the audit log: %w", err)
		}
		var (
			page []store.AuditEntry
			id   int64
			buf  []byte
		)
		if _, err := pgx.ForEachRow(rows, []any{&id, &buf}, func() error {
			var e store.AuditEntry
			if err := json.Unmarshal(buf, &e); err != nil {
				return fmt.Errorf("decoding audit entry %d: %w", id, err)
			}
			e.ID = uint64(id)
			page = append(page, e)
			after = id
			return nil
		}); err != nil {
			return fmt.Errorf("reading the audit log: %w", err)
		}
		for i := range page {
			if err := fn(&page[i]); err != nil {
				return err
			}
		}
		if len(page) < auditPage {
			return nil
		}
	}
}
