package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"mobilise/bot"

	"github.com/jackc/pgx/v5"
)

// What the platforms gave back for an uploaded file, per account, as in
// the bbolt store's media_uploads: one row per account and file, the
// upload as JSON. The files themselves stay in the media directory
// (store.MediaFiles), which every instance must share.

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
