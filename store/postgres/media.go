package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"mobilise/bot"
	"mobilise/store"

	"github.com/jackc/pgx/v5"
)

// What the platforms gave back for an uploaded file, per account, as in
// the bbolt store's media_uploads: one row per account and file, the
// upload as JSON. The files themselves are below, in media_files.

// uploadRecord is an upload as stored, as the bbolt store keeps it.
type uploadRecord struct {
	Ref     string    `json:"ref"`
	At      time.Time `json:"at"`
	Expires time.Time `json:"expires,omitempty"`
}

// Upload implements bot.Uploads: what account's platform gave back for
// the file sha.
func (s *Store) Upload(ctx context.Context, account, sha string) (bot.Upload, bool, error) {
	var buf []byte
	err := s.q(ctx).QueryRow(ctx, `SELECT upload FROM media_uploads WHERE account = $1 AND sha256 = $2`, account, sha).Scan(&buf)
	if errors.Is(err, pgx.ErrNoRows) {
		return bot.Upload{}, false, nil
	}
	var rec uploadRecord
	if err == nil {
		err = json.Unmarshal(buf, &rec)
	}
	if err != nil {
		return bot.Upload{}, false, fmt.Errorf("upload of %s on %s: %w", sha, account, err)
	}
	return bot.Upload{Ref: rec.Ref, At: rec.At, Expires: rec.Expires}, true, nil
}

// SaveUpload implements bot.Uploads: it records the upload, replacing any
// earlier one.
func (s *Store) SaveUpload(ctx context.Context, account, sha string, u bot.Upload) error {
	if strings.IndexByte(account, 0) >= 0 || account == "" {
		return fmt.Errorf("upload of %s: bad account %q", sha, account)
	}
	buf, err := json.Marshal(&uploadRecord{Ref: u.Ref, At: u.At.UTC(), Expires: u.Expires.UTC()})
	if err != nil {
		return fmt.Errorf("recording the upload of %s on %s: %w", sha, account, err)
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO media_uploads (account, sha256, upload) VALUES ($1, $2, $3)
			ON CONFLICT (account, sha256) DO UPDATE SET upload = EXCLUDED.upload`, account, sha, buf)
		return err
	})
	if err != nil {
		return fmt.Errorf("recording the upload of %s on %s: %w", sha, account, err)
	}
	return nil
}

// ForgetUpload implements bot.Uploads: it drops the upload, the platform
// having refused the reference; one that is gone is no error.
func (s *Store) ForgetUpload(ctx context.Context, account, sha string) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM media_uploads WHERE account = $1 AND sha256 = $2`, account, sha)
		return err
	})
	if err != nil {
		return fmt.Errorf("forgetting the upload of %s on %s: %w", sha, account, err)
	}
	return nil
}

var _ bot.Uploads = (*Store)(nil)

// The media files themselves, in media_files, so that any instance sends
// a file another kept (store.SharedMedia; store.MediaFiles keeps each
// instance's copy in its media directory and checks every file it fetches
// against its SHA-256).
//
// The content is a bytea column, not a large object: files are at most
// store.DefaultMaxMedia (16 MB; bytea holds up to 1 GB), read whole by the
// instance that lacks one and then kept on its disk, so the streaming a
// large object allows buys nothing. A bytea is TOASTed out of line, read
// in one query, removed with its row and dumped with its table by pg_dump;
// a large object lives in pg_largeobject apart from the row that names
// it, is left behind unless unlinked, and is read only inside a
// transaction through the lo_ functions.

// PutMedia implements store.SharedMedia: it keeps content under sha
// unless a file of that sha is kept, which, named by its content, is the
// same file.
func (s *Store) PutMedia(ctx context.Context, sha, name, mime string, content []byte) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO media_files (sha256, name, mime, size, content) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (sha256) DO NOTHING`, sha, name, mime, len(content), content)
		return err
	})
	if err != nil {
		return fmt.Errorf("keeping media %s: %w", sha, err)
	}
	return nil
}

// Media implements store.SharedMedia: the file sha, store.ErrMediaMissing
// if it is not kept.
func (s *Store) Media(ctx context.Context, sha string) (content []byte, name, mime string, err error) {
	err = s.q(ctx).QueryRow(ctx, `SELECT content, name, mime FROM media_files WHERE sha256 = $1`, sha).Scan(&content, &name, &mime)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", "", fmt.Errorf("media %s: %w", sha, store.ErrMediaMissing)
	}
	if err != nil {
		return nil, "", "", fmt.Errorf("reading media %s: %w", sha, err)
	}
	return content, name, mime, nil
}

// MediaSHAs implements store.SharedMedia: the SHA-256 of every file kept,
// in order.
func (s *Store) MediaSHAs(ctx context.Context) ([]string, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT sha256 FROM media_files ORDER BY sha256`)
	if err != nil {
		return nil, fmt.Errorf("listing media: %w", err)
	}
	shas, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("listing media: %w", err)
	}
	return shas, nil
}

var _ store.SharedMedia = (*Store)(nil)
