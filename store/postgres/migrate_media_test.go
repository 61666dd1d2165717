package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The objects of migration 26, the media files shared by the instances,
// which TestMigrations applies, reverses and applies again like every other.
func init() {
	schemaObjects[26] = []string{
		"table media_files", "constraint media_files_pkey", "constraint media_files_sha256_check",
		"constraint media_files_size_check", "index media_files_pkey",
	}
}

// TestMigrationMediaFiles migrates a database at schema 24, with an upload
// recorded, to 26: media_files keeps a file's content uncompressed out of
// line, refuses a name that is not a SHA-256 and a size that is not the
// content's, and going down drops it and leaves the uploads as they were.
func TestMigrationMediaFiles(t *testing.T) {
	ctx := context.Background()
	_, pool, m := unmigrated(t, newDatabase(t))
	require.NoError(t, m.Migrate(24))
	sha := strings.Repeat("ab", 32)
	_, err := pool.Exec(ctx, `INSERT INTO media_uploads (account, sha256, upload) VALUES ('telegram', $1, '{"ref":"AgAD"}')`, sha)
	require.NoError(t, err)

	require.NoError(t, m.Migrate(26))
	var storage string
	require.NoError(t, pool.QueryRow(ctx, `SELECT attstorage::text FROM pg_attribute
		WHERE attrelid = 'media_files'::regclass AND attname = 'content'`).Scan(&storage))
	require.Equal(t, "e", storage, "content is stored EXTERNAL: out of line, not compressed again")
	content := []byte("%PDF-1.4\n%%EOF\n")
	insert := `INSERT INTO media_files (sha256, name, mime, size, content) VALUES ($1, 'a.pdf', 'application/pdf', $2, $3)`
	_, err = pool.Exec(ctx, insert, sha, len(content), content)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, insert, sha, len(content), content)
	require.True(t, isUnique(err, "media_files_pkey"), "one row per file: %v", err)
	_, err = pool.Exec(ctx, insert, "../"+sha[3:], len(content), content)
	require.ErrorContains(t, err, "media_files_sha256_check")
	_, err = pool.Exec(ctx, insert, strings.Repeat("cd", 32), len(content)+1, content)
	require.ErrorContains(t, err, "media_files_size_check")
	_, err = pool.Exec(ctx, insert, strings.Repeat("ef", 32), 0, []byte{})
	require.ErrorContains(t, err, "media_files_size_check", "no empty file")
	var created time.Time
	require.NoError(t, pool.QueryRow(ctx, `SELECT created_at FROM media_files WHERE sha256 = $1`, sha).Scan(&created))
	require.WithinDuration(t, time.Now(), created, time.Hour)

	require.NoError(t, m.Migrate(24))
	var uploads int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM media_uploads`).Scan(&uploads))
	require.Equal(t, 1, uploads, "the uploads stay")
	var table *string
	require.NoError(t, pool.QueryRow(ctx, `SELECT to_regclass('media_files')::text`).Scan(&table))
	require.Nil(t, table, "media_files is dropped")
}
