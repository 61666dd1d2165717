package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"mobilise/store"

	"github.com/jackc/pgx/v5"
)

// bulkSendsKept is how long the ledger remembers a send, as in the bbolt
// store.
const bulkSendsKept = 48 * time.Hour

// RecordBulkSend adds a send to the ledger, pruning the author's entries
// older than 48 hours before its time, as store.Store.RecordBulkSend does.
// A zero At is now.
func (s *Store) RecordBulkSend(ctx context.Context, e store.BulkSend) error {
	if e.At.IsZero() {
		e.At = s.stamp()
	}
	e.At = e.At.UTC()
	buf, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("recording a bulk send of %d: encoding: %w", e.Author, err)
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO bulk_sends (author, at_ns, record) VALUES ($1, $2, $3)`,
			int64(e.Author), e.At.UnixNano(), buf); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM bulk_sends WHERE author = $1 AND at_ns < $2`,
			int64(e.Author), e.At.Add(-bulkSendsKept).UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("recording a bulk send of %d: %w", e.Author, err)
	}
	return nil
}

// BulkSentSince returns the author's sends since the given time, oldest
// first (sends at one time in the order recorded).
func (s *Store) BulkSentSince(ctx context.Context, author uint64, since time.Time) ([]store.BulkSend, error) {
	if since.Before(time.Unix(0, 0)) {
		since = time.Unix(0, 0)
	}
	rows, err := s.q(ctx).Query(ctx, `SELECT record FROM bulk_sends WHERE author = $1 AND at_ns >= $2 ORDER BY at_ns, seq`,
		int64(author), since.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("reading the bulk sends of %d: %w", author, err)
	}
	var (
		out []store.BulkSend
		buf []byte
	)
	if _, err := pgx.ForEachRow(rows, []any{&buf}, func() error {
		var e store.BulkSend
		if err := json.Unmarshal(buf, &e); err != nil {
			return fmt.Errorf("decoding a bulk send: %w", err)
		}
		out = append(out, e)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("reading the bulk sends of %d: %w", author, err)
	}
	return out, nil
}
