package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mobilise/bot"
	"mobilise/store"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testPNG is a real PNG, its size set by n (its pixels are noise, which
// PNG does not compress).
func testPNG(t *testing.T, n int, seed uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	x := uint32(seed) + 1
	for i := range img.Pix {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		img.Pix[i] = uint8(x)
	}
	img.Set(0, 0, color.RGBA{R: seed, A: 255})
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

// instanceFiles is the media directory of one instance: a data directory
// of its own, a connection pool of its own, the database u shared.
func instanceFiles(t *testing.T, u string, max int64) *store.MediaFiles {
	t.Helper()
	s, err := Open(context.Background(), u)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	files, err := store.OpenMediaFiles(filepath.Join(t.TempDir(), "media"), max, store.WithSharedMedia(s))
	require.NoError(t, err)
	return files
}

// readAll reads the file sha from files.
func readAll(t *testing.T, files *store.MediaFiles, sha string) []byte {
	t.Helper()
	r, err := files.Open(sha)
	require.NoError(t, err)
	defer r.Close()
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	return b
}

// TestSharedMediaAcrossInstances keeps a poster through one instance and
// reads it through others, each by another way in: Has (a draft's check),
// Open (a channel's upload) and Record (the dashboard's form). Each gets
// the same bytes and keeps them in its own directory.
func TestSharedMediaAcrossInstances(t *testing.T) {
	u := newDatabase(t)
	a, b, c, d := instanceFiles(t, u, 0), instanceFiles(t, u, 0), instanceFiles(t, u, 0), instanceFiles(t, u, 0)
	pic := testPNG(t, 400, 1) // about 640 kB
	sum := sha256.Sum256(pic)
	sha := hex.EncodeToString(sum[:])

	start := time.Now()
	m, err := a.Put(bytes.NewReader(pic), "walk.png")
	put := time.Since(start)
	require.NoError(t, err)
	require.Equal(t, sha, m.SHA256)

	require.False(t, b.Has(strings.Repeat("0", 64)), "a file no instance kept")
	_, err = b.Open(strings.Repeat("0", 64))
	require.ErrorIs(t, err, store.ErrMediaMissing)

	start = time.Now()
	require.True(t, b.Has(sha), "kept through another instance")
	fetch := time.Since(start)
	local, err := b.List()
	require.NoError(t, err)
	require.Equal(t, []string{sha}, local, "and now in this instance's directory")
	start = time.Now()
	require.Equal(t, pic, readAll(t, b, sha))
	cached := time.Since(start)

	require.Equal(t, pic, readAll(t, c, sha), "Open fetches as Has does")
	rec, err := d.Record(sha, "مسيرة.jpg")
	require.NoError(t, err)
	require.Equal(t, &store.Media{SHA256: sha, Kind: bot.MediaImage, MIME: "image/png", Size: int64(len(pic)), Name: "مسيرة.png"}, rec)

	// the same file kept again, through another instance, is one file
	again, err := c.Put(bytes.NewReader(pic), "again.png")
	require.NoError(t, err)
	require.Equal(t, sha, again.SHA256)
	s, err := Open(context.Background(), u)
	require.NoError(t, err)
	defer s.Close()
	shas, err := s.MediaSHAs(context.Background())
	require.NoError(t, err)
	require.Equal(t, []string{sha}, shas)
	_, name, mime, err := s.Media(context.Background(), sha)
	require.NoError(t, err)
	assert.Equal(t, []string{"walk.png", "image/png"}, []string{name, mime}, "the first keeping's name stays")
	t.Logf("%d bytes: Put with the shared copy %v, first Has (fetch and keep) %v, Open after %v", len(pic), put, fetch, cached)
}

// TestSharedMediaFetchedOnce opens one file from many goroutines at once
// on an instance that lacks it, as a broadcast's messages do: each reads
// the whole file, and the directory holds it once, with no file left
// half-written.
func TestSharedMediaFetchedOnce(t *testing.T) {
	u := newDatabase(t)
	a, b := instanceFiles(t, u, 0), instanceFiles(t, u, 0)
	pic := testPNG(t, 200, 2)
	m, err := a.Put(bytes.NewReader(pic), "poster.png")
	require.NoError(t, err)
	var wg sync.WaitGroup
	got := make([][]byte, 16)
	errs := make([]error, len(got))
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := b.Open(m.SHA256)
			if err == nil {
				got[i], err = io.ReadAll(r)
				err = errors.Join(err, r.Close())
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i := range got {
		require.NoError(t, errs[i])
		require.Equal(t, pic, got[i])
	}
	entries, err := filepath.Glob(filepath.Join(b.Dir(), "*"))
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join(b.Dir(), m.SHA256[:2])}, entries, "no temporary file left")
}

// TestSharedMediaDamaged changes a file's content in the database: an
// instance that lacks the file refuses it, by every way in, and keeps
// nothing of it; one that holds its own sound copy goes on sending that.
// A shared copy larger than an instance accepts is refused too.
func TestSharedMediaDamaged(t *testing.T) {
	u := newDatabase(t)
	a, b := instanceFiles(t, u, 0), instanceFiles(t, u, 0)
	pic := testPNG(t, 100, 3)
	m, err := a.Put(bytes.NewReader(pic), "poster.png")
	require.NoError(t, err)
	s, err := Open(context.Background(), u)
	require.NoError(t, err)
	defer s.Close()
	bad := append([]byte(nil), pic...)
	bad[len(bad)/2] ^= 0xff
	_, err = s.pool.Exec(context.Background(), `UPDATE media_files SET content = $2 WHERE sha256 = $1`, m.SHA256, bad)
	require.NoError(t, err)

	_, err = b.Open(m.SHA256)
	require.ErrorIs(t, err, store.ErrMediaDamaged)
	require.NotErrorIs(t, err, store.ErrCorrupt, "one bad file is not a corrupt database, which stops the bot")
	require.False(t, b.Has(m.SHA256))
	_, err = b.Record(m.SHA256, "poster.png")
	require.ErrorIs(t, err, store.ErrMediaDamaged)
	entries, err := filepath.Glob(filepath.Join(b.Dir(), "*"))
	require.NoError(t, err)
	require.Empty(t, entries, "nothing of the damaged file is kept")

	require.Equal(t, pic, readAll(t, a, m.SHA256), "the instance that kept it reads its own copy")

	small := instanceFiles(t, u, int64(len(pic)-1))
	big, err := a.Put(bytes.NewReader(testPNG(t, 100, 4)), "other.png")
	require.NoError(t, err)
	_, err = small.Open(big.SHA256)
	require.ErrorIs(t, err, store.ErrMediaTooLarge)
}

// TestShareLocal starts sharing a media directory that held files before
// (a bbolt installation moved onto PostgreSQL, a version that did not
// share them): ShareLocal sends the files the database lacks, once, and
// then other instances read them. A file that does not hash to its name
// is not sent.
func TestShareLocal(t *testing.T) {
	u := newDatabase(t)
	dir := filepath.Join(t.TempDir(), "media")
	alone, err := store.OpenMediaFiles(dir, 0)
	require.NoError(t, err)
	p1, err := alone.Put(bytes.NewReader(testPNG(t, 50, 5)), "one.png")
	require.NoError(t, err)
	p2, err := alone.Put(bytes.NewReader([]byte("%PDF-1.4\n%%EOF\n")), "two.pdf")
	require.NoError(t, err)

	s, err := Open(context.Background(), u)
	require.NoError(t, err)
	defer s.Close()
	shas, err := s.MediaSHAs(context.Background())
	require.NoError(t, err)
	require.Empty(t, shas, "a directory without a shared copy writes nothing to the database")

	shared, err := store.OpenMediaFiles(dir, 0, store.WithSharedMedia(s))
	require.NoError(t, err)
	n, err := shared.ShareLocal(context.Background())
	require.NoError(t, err)
	require.Equal(t, 2, n)
	n, err = shared.ShareLocal(context.Background())
	require.NoError(t, err)
	require.Equal(t, 0, n, "the files the database holds are not sent again")
	other := instanceFiles(t, u, 0)
	rec, err := other.Record(p2.SHA256, "")
	require.NoError(t, err)
	require.Equal(t, store.Media{SHA256: p2.SHA256, Kind: bot.MediaDocument, MIME: "application/pdf", Size: p2.Size, Name: "document.pdf"}, *rec)
	require.True(t, other.Has(p1.SHA256))
	_, name, _, err := s.Media(context.Background(), p1.SHA256)
	require.NoError(t, err)
	require.Equal(t, "poster.png", name, "a file shared afterwards is named by its type")

	// a damaged file in the directory stays there; the others are sent
	p3, err := alone.Put(bytes.NewReader(testPNG(t, 50, 6)), "three.png")
	require.NoError(t, err)
	p4, err := alone.Put(bytes.NewReader(testPNG(t, 50, 8)), "four.png")
	require.NoError(t, err)
	path := filepath.Join(dir, p3.SHA256[:2], p3.SHA256)
	require.NoError(t, os.WriteFile(path, testPNG(t, 50, 7), 0o600))
	n, err = shared.ShareLocal(context.Background())
	require.ErrorIs(t, err, store.ErrMediaDamaged)
	require.ErrorContains(t, err, p3.SHA256)
	require.Equal(t, 1, n)
	require.False(t, other.Has(p3.SHA256))
	require.True(t, other.Has(p4.SHA256))
}

// TestSharedMediaLargest keeps a file of the largest size accepted,
// DefaultMaxMedia, through one instance and reads it through another, and
// logs how long each took.
func TestSharedMediaLargest(t *testing.T) {
	u := newDatabase(t)
	a, b := instanceFiles(t, u, 0), instanceFiles(t, u, 0)
	content := make([]byte, store.DefaultMaxMedia)
	copy(content, "%PDF-1.4\n")
	x := uint64(88172645463325252)
	for i := 16; i+8 <= len(content); i += 8 { // noise, as a video's bytes are
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		for k := range 8 {
			content[i+k] = byte(x >> (8 * k))
		}
	}
	start := time.Now()
	m, err := a.Put(bytes.NewReader(content), "report.pdf")
	put := time.Since(start)
	require.NoError(t, err)
	start = time.Now()
	got := readAll(t, b, m.SHA256)
	fetch := time.Since(start)
	require.True(t, bytes.Equal(content, got), "the same bytes")
	start = time.Now()
	got = readAll(t, b, m.SHA256)
	local := time.Since(start)
	require.True(t, bytes.Equal(content, got))
	var stored int64
	s, err := Open(context.Background(), u)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.pool.QueryRow(context.Background(), `SELECT pg_total_relation_size('media_files')`).Scan(&stored))
	require.Less(t, put, 2*time.Minute)
	require.Less(t, fetch, 2*time.Minute)
	t.Logf("%d bytes: Put with the shared copy %v, Open on another instance (fetch, check, keep, read) %v, Open again %v; media_files holds %d bytes",
		len(content), put, fetch, local, stored)
}
