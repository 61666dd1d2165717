package whatsapp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ErrPostgresLinked means the PostgreSQL database holds a linked device
// already: CopyToPostgres does not replace it.
var ErrPostgresLinked = errors.New("whatsapp: the PostgreSQL database holds a linked device already (unlink it there first)")

// CopyResult says what CopyToPostgres copied.
type CopyResult struct {
	PhoneNumber string
	Tables      int // whatsmeow's tables, each copied whole
	Rows        int // rows written into PostgreSQL
}

// CopyToPostgres copies the device linked in dataDir's whatsapp.db, with
// its Signal sessions, keys and app state, into the PostgreSQL database at
// url, so that a bot moved from the bbolt file to PostgreSQL keeps its
// number without linking again. Both sides are first brought to
// whatsmeow's newest schema, so every whatsmeow_* table is copied column
// for column, in one transaction, parents before the tables that refer to
// them. It refuses when the database holds a linked device already, and
// leaves whatsapp.db as it is. The bot must be stopped: whatsmeow writes
// new keys to the file as it runs.
func CopyToPostgres(ctx context.Context, dataDir, url string, log *slog.Logger) (res CopyResult, err error) {
	path := filepath.Join(dataDir, DBFile)
	if _, err := os.Stat(path); err != nil {
		return CopyResult{}, fmt.Errorf("whatsapp: nothing to copy: %w", err)
	}
	src, err := OpenDevice(ctx, dataDir, log)
	if err != nil {
		return CopyResult{}, err
	}
	defer func() { err = errors.Join(err, src.Close()) }()
	if !src.Linked() {
		return CopyResult{}, fmt.Errorf("whatsapp: nothing to copy: no number is linked in %s", path)
	}
	dst, err := OpenPostgresDevice(ctx, url, log)
	if err != nil {
		return CopyResult{}, err
	}
	defer func() { err = errors.Join(err, dst.Close()) }()
	if dst.Linked() {
		return CopyResult{}, fmt.Errorf("%w: +%s", ErrPostgresLinked, dst.PhoneNumber())
	}
	tables, err := copyOrder(ctx, dst.db)
	if err != nil {
		return CopyResult{}, fmt.Errorf("whatsapp: reading whatsmeow's tables in PostgreSQL: %w", err)
	}
	res = CopyResult{PhoneNumber: src.PhoneNumber(), Tables: len(tables)}
	tx, err := dst.db.BeginTx(ctx, nil)
	if err != nil {
		return CopyResult{}, fmt.Errorf("whatsapp: copying into PostgreSQL: %w", err)
	}
	for _, table := range tables {
		n, err := copyTable(ctx, src.db, tx, table)
		if err != nil {
			return CopyResult{}, errors.Join(fmt.Errorf("whatsapp: copying %s: %w", table, err), tx.Rollback())
		}
		res.Rows += n
	}
	if err := tx.Commit(); err != nil {
		return CopyResult{}, fmt.Errorf("whatsapp: copying into PostgreSQL: %w", err)
	}
	// read back as an instance starting will read it
	check, err := OpenPostgresDevice(ctx, url, log)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, check.Close()) }()
	if !check.Linked() || *check.store.ID != *src.store.ID || *check.store.IdentityKey.Pub != *src.store.IdentityKey.Pub {
		return res, errors.New("whatsapp: the device read back from PostgreSQL is not the one copied")
	}
	return res, nil
}

// copyOrder lists whatsmeow's tables in the current schema but its version
// table, each after the tables its foreign keys name.
func copyOrder(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT tablename FROM pg_tables
		WHERE schemaname = current_schema() AND tablename LIKE 'whatsmeow\_%' AND tablename <> 'whatsmeow_version'
		ORDER BY tablename`)
	if err != nil {
		return nil, err
	}
	tables, err := collect[string](rows)
	if err != nil {
		return nil, err
	}
	rows, err = db.QueryContext(ctx, `SELECT c.relname, p.relname FROM pg_constraint k
		JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
		WHERE k.contype = 'f' AND c.relnamespace = current_schema()::regnamespace AND c.relname LIKE 'whatsmeow\_%'`)
	if err != nil {
		return nil, err
	}
	parents := map[string][]string{}
	for rows.Next() {
		var child, parent string
		if err := rows.Scan(&child, &parent); err != nil {
			return nil, errors.Join(err, rows.Close())
		}
		if child != parent {
			parents[child] = append(parents[child], parent)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	var order []string
	for len(order) < len(tables) {
		before := len(order)
		for _, t := range tables {
			if slices.Contains(order, t) {
				continue
			}
			ready := true
			for _, p := range parents[t] {
				ready = ready && (slices.Contains(order, p) || !slices.Contains(tables, p))
			}
			if ready {
				order = append(order, t)
			}
		}
		if len(order) == before {
			return nil, fmt.Errorf("the foreign keys of %v go round in a circle", tables)
		}
	}
	return order, nil
}

// copyTable copies every row of table from the SQLite file into the same
// table in PostgreSQL, in PostgreSQL's columns: SQLite keeps booleans as
// integers. A row PostgreSQL holds already, left by an earlier device in a
// table not tied to one (the LID map), is kept. It returns the rows written.
func copyTable(ctx context.Context, src *sql.DB, tx *sql.Tx, table string) (written int, err error) {
	rows, err := tx.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table)
	if err != nil {
		return 0, err
	}
	var cols, types []string
	for rows.Next() {
		var col, typ string
		if err := rows.Scan(&col, &typ); err != nil {
			return 0, errors.Join(err, rows.Close())
		}
		cols, types = append(cols, col), append(types, typ)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, err
	}
	quoted := make([]string, len(cols))
	params := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = `"` + c + `"`
		params[i] = fmt.Sprintf("$%d", i+1)
	}
	list := strings.Join(quoted, ", ")
	insert := `INSERT INTO "` + table + `" (` + list + `) VALUES (` + strings.Join(params, ", ") + `) ON CONFLICT DO NOTHING`
	in, err := src.QueryContext(ctx, `SELECT `+list+` FROM "`+table+`"`)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", DBFile, err)
	}
	defer func() { err = errors.Join(err, in.Close()) }()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for in.Next() {
		if err := in.Scan(ptrs...); err != nil {
			return written, fmt.Errorf("reading %s: %w", DBFile, err)
		}
		for i, v := range vals {
			if n, ok := v.(int64); ok && types[i] == "boolean" {
				vals[i] = n != 0
			}
		}
		r, err := tx.ExecContext(ctx, insert, vals...)
		if err != nil {
			return written, err
		}
		n, err := r.RowsAffected()
		if err != nil {
			return written, err
		}
		written += int(n)
	}
	if err := in.Err(); err != nil {
		return written, fmt.Errorf("reading %s: %w", DBFile, err)
	}
	return written, nil
}

// collect scans rows of one column.
func collect[T any](rows *sql.Rows) ([]T, error) {
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, errors.Join(err, rows.Close())
		}
		out = append(out, v)
	}
	return out, errors.Join(rows.Err(), rows.Close())
}
