package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"

	"mobilise/bot"

	"go.etcd.io/bbolt"
)

// Media files. A poster, PDF or short video attached to a campaign or a
// broadcast is kept once, in the media directory beside the database, named
// by the SHA-256 of its content (media/ab/abcdef…): attaching the same file
// twice keeps one copy, a name is never reused for other bytes, and a file
// is never changed once written, so copying the directory while the bot
// runs is safe. Records refer to a file by its Media, which the file is
// written before: a record that names a file always finds it.
//
// What the platforms gave back for an uploaded file (a Telegram file_id,
// the answer of WhatsApp's media servers) is kept per account in the
// media_uploads bucket, so a restart sends by reference too.
//
// Instances sharing one PostgreSQL database each have their own media
// directory, and any of them may send what another kept. There the
// directory is a cache of a shared copy in the database (SharedMedia): Put
// writes both, and a file asked for that the directory lacks is fetched,
// checked against its name and kept before it is read. On bbolt the
// directory is all there is.

// bucketMediaUploads is the bucket of schema version 9.
var bucketMediaUploads = []byte("media_uploads")

// Errors of files refused.
var (
	// ErrMediaTooLarge: the file is over the size the bot accepts.
	ErrMediaTooLarge = errors.New("file too large")
	// ErrMediaType: the content is not a JPEG, PNG, PDF or MP4 video.
	ErrMediaType = errors.New("not a JPEG, PNG, PDF or MP4 file")
	// ErrMediaMissing: a record names a file that is not in the media
	// directory, nor in the shared copy if there is one.
	ErrMediaMissing = errors.New("media file missing")
	// ErrMediaDamaged: the shared copy of a file does not hash to its name.
	// Not ErrCorrupt, which stops the bot: one bad file is refused, not served.
	ErrMediaDamaged = errors.New("media file does not match its SHA-256")
)

// DefaultMaxMedia is the largest file kept: 16 MB, WhatsApp's limit on a
// video and under Telegram's 20 MB for files a bot fetches, so a file one
// platform accepts the other does too.
const DefaultMaxMedia = 16 << 20

// Media names a kept file and says what it is.
type Media struct {
	SHA256 string        `json:"sha256"`
	Kind   bot.MediaKind `json:"kind"`
	MIME   string        `json:"mime"`
	Size   int64         `json:"size"`
	// Name is the file's name as it came, cleaned; shown with documents.
	Name string `json:"name,omitempty"`
}

// Bot is the file as a channel sends it, read from files.
func (m *Media) Bot(files *MediaFiles) *bot.Media {
	if m == nil {
		return nil
	}
	sha := m.SHA256
	return &bot.Media{SHA256: sha, Kind: m.Kind, MIME: m.MIME, Size: m.Size, Name: m.Name,
		Open: func() (io.ReadCloser, error) { return files.Open(sha) }}
}

// Queued is the file as a message queued in the outbox names it: without
// a way to read it, which the dispatcher adds when it sends.
func (m *Media) Queued() *bot.Media {
	if m == nil {
		return nil
	}
	return &bot.Media{SHA256: m.SHA256, Kind: m.Kind, MIME: m.MIME, Size: m.Size, Name: m.Name}
}

// MediaOf is the record of a file a message carries; nil for none.
func MediaOf(m *bot.Media) *Media {
	if m == nil {
		return nil
	}
	return &Media{SHA256: m.SHA256, Kind: m.Kind, MIME: m.MIME, Size: m.Size, Name: m.Name}
}

// mediaTypes are the types kept, as http.DetectContentType names them.
var mediaTypes = map[string]bot.MediaKind{
	"image/jpeg":      bot.MediaImage,
	"image/png":       bot.MediaImage,
	"application/pdf": bot.MediaDocument,
	"video/mp4":       bot.MediaVideo,
}

// MediaFiles is the media directory.
type MediaFiles struct {
	dir string
	max int64
	// shared is the copy every instance reads, nil on bbolt
	shared SharedMedia
	// fetching serialises fetches from shared: the messages of a broadcast
	// ask for its file at once, and one fetch serves them all
	fetching sync.Mutex
}

// SharedMedia is a copy of the media files that every instance on one
// database reads: the PostgreSQL store's media_files. Files are named by
// the SHA-256 of their content and never change, so keeping one twice is
// no error and keeps the first.
type SharedMedia interface {
	// PutMedia keeps content under sha, unless a file of that sha is kept.
	PutMedia(ctx context.Context, sha, name, mime string, content []byte) error
	// Media is the file sha as it was kept; ErrMediaMissing if none is.
	Media(ctx context.Context, sha string) (content []byte, name, mime string, err error)
	// MediaSHAs lists the SHA-256 of every file kept.
	MediaSHAs(ctx context.Context) ([]string, error)
}

// sharedTimeout bounds one call of the shared copy. The readers of a file
// (a channel opening it to upload, the checks of a draft) carry no
// context; a file is at most a few tens of MB, read once per instance.
const sharedTimeout = time.Minute

// MediaOption configures OpenMediaFiles.
type MediaOption func(*MediaFiles)

// WithSharedMedia makes the directory a cache of shared: Put keeps each
// file there too, and Open, Has and Record fetch a file the directory
// lacks. Set on PostgreSQL, where several instances send the same files.
func WithSharedMedia(shared SharedMedia) MediaOption {
	return func(f *MediaFiles) { f.shared = shared }
}

// MediaDir is the media directory beside the database at dbPath.
func MediaDir(dbPath string) string { return filepath.Join(filepath.Dir(dbPath), "media") }

// OpenMediaFiles opens the media directory dir, creating it (0700), and
// keeps files of at most max bytes (DefaultMaxMedia if max <= 0).
func OpenMediaFiles(dir string, max int64, opts ...MediaOption) (*MediaFiles, error) {
	if max <= 0 {
		max = DefaultMaxMedia
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the media directory: %w", err)
	}
	f := &MediaFiles{dir: dir, max: max}
	for _, o := range opts {
		o(f)
	}
	return f, nil
}

// Dir is the directory.
func (f *MediaFiles) Dir() string { return f.dir }

// Max is the largest file kept, in bytes.
func (f *MediaFiles) Max() int64 { return f.max }

var shaPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// path is where the file sha lives.
func (f *MediaFiles) path(sha string) (string, error) {
	if !shaPattern.MatchString(sha) {
		return "", fmt.Errorf("media %q: not a SHA-256", sha)
	}
	return filepath.Join(f.dir, sha[:2], sha), nil
}

// Put keeps the content of r, named name, and returns its record. It reads
// at most Max()+1 bytes: a longer file is ErrMediaTooLarge, a type other
// than JPEG, PNG, PDF or MP4 (from the first bytes, whatever the name says)
// ErrMediaType. A file kept before is not written again. With a shared
// copy the file goes there too, before Put returns: a record naming it may
// be sent by any instance.
func (f *MediaFiles) Put(r io.Reader, name string) (*Media, error) {
	tmp, err := os.CreateTemp(f.dir, ".incoming-*")
	if err != nil {
		return nil, fmt.Errorf("keeping a file: %w", err)
	}
	defer func() { _ = removeIfExists(tmp.Name()) }()
	h := sha256.New()
	var head bytes.Buffer
	n, err := io.Copy(io.MultiWriter(tmp, h, &limitedBuffer{buf: &head, left: 512}), io.LimitReader(r, f.max+1))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("keeping a file: %w", err)
	}
	if n > f.max {
		return nil, ErrMediaTooLarge
	}
	mime, kind, ok := contentType(head.Bytes())
	if !ok || n == 0 {
		return nil, fmt.Errorf("%w: the content is %s", ErrMediaType, mime)
	}
	m := &Media{SHA256: hex.EncodeToString(h.Sum(nil)), Kind: kind, MIME: mime, Size: n, Name: cleanFileName(name, mime)}
	dst, _ := f.path(m.SHA256)
	if fi, err := os.Stat(dst); err != nil || fi.Size() != n {
		if err := f.install(tmp.Name(), dst); err != nil {
			return nil, fmt.Errorf("keeping a file: %w", err)
		}
	} // else the same bytes, kept before; shared again below in case an earlier share failed
	if err := f.share(m, dst); err != nil {
		return nil, err
	}
	return m, nil
}

// install renames the whole, synced file tmp to dst, its place in the
// directory.
func (f *MediaFiles) install(tmp, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dst))
}

// share keeps the file m, at path p, in the shared copy, if there is one.
func (f *MediaFiles) share(m *Media, p string) error {
	if f.shared == nil {
		return nil
	}
	content, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("sharing media %s: %w", m.SHA256, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	if err := f.shared.PutMedia(ctx, m.SHA256, m.Name, m.MIME, content); err != nil {
		return fmt.Errorf("sharing media %s: %w", m.SHA256, err)
	}
	return nil
}

// ShareLocal keeps in the shared copy every file of the directory it
// lacks, and returns how many it sent: files kept before the instance
// shared them (on bbolt, or by an older version) reach the other instances
// too. A file that does not hash to its name, or cannot be sent, is not,
// and the others are: the error names each.
func (f *MediaFiles) ShareLocal(ctx context.Context) (int, error) {
	if f.shared == nil {
		return 0, nil
	}
	local, err := f.List()
	if err != nil {
		return 0, fmt.Errorf("listing media: %w", err)
	}
	known, err := f.shared.MediaSHAs(ctx)
	if err != nil {
		return 0, fmt.Errorf("listing the shared media: %w", err)
	}
	have := make(map[string]bool, len(known))
	for _, sha := range known {
		have[sha] = true
	}
	sent := 0
	var errs []error
	for _, sha := range local {
		if have[sha] {
			continue
		}
		if err := f.shareFile(ctx, sha); err != nil {
			errs = append(errs, fmt.Errorf("sharing media %s: %w", sha, err))
			continue
		}
		sent++
	}
	return sent, errors.Join(errs...)
}

// shareFile keeps the directory's file sha in the shared copy, once it is
// checked against its name.
func (f *MediaFiles) shareFile(ctx context.Context, sha string) error {
	p, _ := f.path(sha)
	content, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if err := checkContent(sha, content, f.max); err != nil {
		return err
	}
	mime, _, _ := contentType(content)
	return f.shared.PutMedia(ctx, sha, cleanFileName("", mime), mime, content)
}

// contentType is the type of a file from its first bytes, and its kind;
// false if it is not a type kept.
func contentType(head []byte) (string, bot.MediaKind, bool) {
	mime, _, _ := strings.Cut(http.DetectContentType(head), ";")
	kind, ok := mediaTypes[mime]
	return mime, kind, ok
}

// checkContent checks that content is a file the directory may keep under
// sha: no larger than max, hashing to sha.
func checkContent(sha string, content []byte, max int64) error {
	if int64(len(content)) > max {
		return fmt.Errorf("%w: %d bytes", ErrMediaTooLarge, len(content))
	}
	if sum := sha256.Sum256(content); hex.EncodeToString(sum[:]) != sha {
		return fmt.Errorf("%w: its content hashes to %s", ErrMediaDamaged, hex.EncodeToString(sum[:]))
	}
	return nil
}

// fetch keeps the shared copy's file sha at p, its place in the
// directory, once it is checked against its name: a damaged copy is
// refused and never kept, so what the directory holds is always sound.
func (f *MediaFiles) fetch(sha, p string) error {
	f.fetching.Lock()
	defer f.fetching.Unlock()
	if _, err := os.Stat(p); err == nil {
		return nil // fetched while this one waited
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	content, _, _, err := f.shared.Media(ctx, sha)
	if err != nil {
		return fmt.Errorf("fetching the shared copy: %w", err)
	}
	if err := checkContent(sha, content, f.max); err != nil {
		return fmt.Errorf("media %s: the shared copy: %w", sha, err)
	}
	if err := f.writeFile(content, p); err != nil {
		return fmt.Errorf("media %s: keeping the shared copy: %w", sha, err)
	}
	return nil
}

// writeFile writes content to a temporary name, syncs it and renames it
// to p, so p is whole or absent.
func (f *MediaFiles) writeFile(content []byte, p string) error {
	tmp, err := os.CreateTemp(f.dir, ".fetched-*")
	if err != nil {
		return err
	}
	defer func() { _ = removeIfExists(tmp.Name()) }()
	_, err = tmp.Write(content)
	if err == nil {
		err = tmp.Sync()
	}
	if err = errors.Join(err, tmp.Close()); err != nil {
		return err
	}
	return f.install(tmp.Name(), p)
}

// limitedBuffer keeps the first bytes written to it.
type limitedBuffer struct {
	buf  *bytes.Buffer
	left int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.left > 0 {
		k := min(b.left, len(p))
		b.buf.Write(p[:k])
		b.left -= k
	}
	return len(p), nil
}

// cleanFileName makes a name safe to show and to send as a document's
// name: no directories, no control characters, at most 100 characters, and
// the extension of its type.
func cleanFileName(name, mime string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '/' || r == '"' {
			return -1
		}
		return r
	}, strings.TrimSpace(name))
	if name == "." || name == ".." {
		name = ""
	}
	if r := []rune(name); len(r) > 100 {
		name = string(r[:100])
	}
	ext := map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf", "video/mp4": ".mp4"}[mime]
	base := strings.TrimSuffix(name, filepath.Ext(name))
	if base == "" {
		base = map[string]string{".jpg": "poster", ".png": "poster", ".pdf": "document", ".mp4": "video"}[ext]
	}
	return base + ext
}

// Record is the record of the file sha kept before, its type read again
// from its content, named name: a form that carries a file across pages
// names it by its SHA-256 only, and says nothing trusted of its type.
func (f *MediaFiles) Record(sha, name string) (*Media, error) {
	r, err := f.Open(sha)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("media %s: %w", sha, err)
	}
	fi, err := r.(*os.File).Stat()
	if err != nil {
		return nil, fmt.Errorf("media %s: %w", sha, err)
	}
	mime, kind, ok := contentType(head[:n])
	if !ok {
		return nil, fmt.Errorf("media %s: %w", sha, ErrMediaType)
	}
	return &Media{SHA256: sha, Kind: kind, MIME: mime, Size: fi.Size(), Name: cleanFileName(name, mime)}, nil
}

// Open reads the file sha; ErrMediaMissing if it is not there. A file the
// directory lacks is fetched from the shared copy, if there is one, and
// kept: another instance kept it, and this one sends it.
func (f *MediaFiles) Open(sha string) (io.ReadCloser, error) {
	p, err := f.path(sha)
	if err != nil {
		return nil, err
	}
	file, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) && f.shared != nil {
		if err := f.fetch(sha, p); err != nil {
			return nil, err
		}
		file, err = os.Open(p)
	}
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("media %s: %w", sha, ErrMediaMissing)
	}
	if err != nil {
		return nil, fmt.Errorf("media %s: %w", sha, err)
	}
	return file, nil
}

// Has reports whether the file sha is kept. A file the directory lacks is
// fetched from the shared copy, as Open does: a draft that names it is
// about to be sent. A file that cannot be fetched is not kept.
func (f *MediaFiles) Has(sha string) bool {
	p, err := f.path(sha)
	if err != nil {
		return false
	}
	if _, err = os.Stat(p); err == nil {
		return true
	}
	return errors.Is(err, os.ErrNotExist) && f.shared != nil && f.fetch(sha, p) == nil
}

// List returns the SHA-256 of every file kept.
func (f *MediaFiles) List() ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(f.dir, "??", "*"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range paths {
		if sha := filepath.Base(p); shaPattern.MatchString(sha) && filepath.Base(filepath.Dir(p)) == sha[:2] {
			out = append(out, sha)
		}
	}
	return out, nil
}

// CopyTo copies every file kept into the media directory dst (created
// 0700), as a backup does, and returns how many it copied and how many
// bytes. A file dst holds already is skipped: its name is its content. Each
// copy is checked against its name as it is read, written to a temporary
// name, synced and renamed, so dst holds whole, sound files only.
func (f *MediaFiles) CopyTo(dst string) (files int, bytes int64, err error) {
	shas, err := f.List()
	if err != nil {
		return 0, 0, fmt.Errorf("listing media: %w", err)
	}
	to := &MediaFiles{dir: dst, max: f.max}
	for _, sha := range shas {
		if to.Has(sha) {
			continue
		}
		n, err := f.copyOne(sha, to)
		if err != nil {
			return files, bytes, fmt.Errorf("copying media %s: %w", sha, err)
		}
		files++
		bytes += n
	}
	return files, bytes, nil
}

func (f *MediaFiles) copyOne(sha string, to *MediaFiles) (int64, error) {
	src, err := f.Open(sha)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	p, _ := to.path(sha)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".copy-*")
	if err != nil {
		return 0, err
	}
	defer func() { _ = removeIfExists(tmp.Name()) }()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), src)
	if err == nil {
		err = tmp.Sync()
	}
	err = errors.Join(err, tmp.Close())
	if err != nil {
		return 0, err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sha {
		return 0, fmt.Errorf("%w: its content hashes to %s", ErrCorrupt, got)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return 0, err
	}
	return n, syncDir(filepath.Dir(p))
}

// uploadKey is (account ‖ 0 ‖ sha).
func uploadKey(account, sha string) []byte {
	return append(append([]byte(account), 0), sha...)
}

// uploadRecord is an upload as stored.
type uploadRecord struct {
	Ref     string    `json:"ref"`
	At      time.Time `json:"at"`
	Expires time.Time `json:"expires,omitempty"`
}

// Upload implements bot.Uploads: what account's platform gave back for
// the file sha.
func (s *Store) Upload(ctx context.Context, account, sha string) (bot.Upload, bool, error) {
	var rec uploadRecord
	found := false
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketMediaUploads).Get(uploadKey(account, sha))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &rec)
	})
	if err != nil {
		return bot.Upload{}, false, fmt.Errorf("upload of %s on %s: %w", sha, account, err)
	}
	return bot.Upload{Ref: rec.Ref, At: rec.At, Expires: rec.Expires}, found, nil
}

// SaveUpload implements bot.Uploads.
func (s *Store) SaveUpload(ctx context.Context, account, sha string, u bot.Upload) error {
	if strings.IndexByte(account, 0) >= 0 || account == "" {
		return fmt.Errorf("upload of %s: bad account %q", sha, account)
	}
	// idempotent: the same record written twice is the same
	err := s.writeBatch(ctx, func(tx *bbolt.Tx) error {
		return putJSON(tx.Bucket(bucketMediaUploads), uploadKey(account, sha), &uploadRecord{Ref: u.Ref, At: u.At.UTC(), Expires: u.Expires.UTC()})
	})
	if err != nil {
		return fmt.Errorf("recording the upload of %s on %s: %w", sha, account, err)
	}
	return nil
}

// ForgetUpload implements bot.Uploads.
func (s *Store) ForgetUpload(ctx context.Context, account, sha string) error {
	err := s.writeBatch(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMediaUploads).Delete(uploadKey(account, sha))
	})
	if err != nil {
		return fmt.Errorf("forgetting the upload of %s on %s: %w", sha, account, err)
	}
	return nil
}

var _ bot.Uploads = (*Store)(nil)

// createVersion9 creates the bucket of schema version 9: the platforms'
// references to files uploaded once.
func createVersion9(tx *bbolt.Tx) error {
	if _, err := tx.CreateBucketIfNotExists(bucketMediaUploads); err != nil {
		return fmt.Errorf("creating bucket %s: %w", bucketMediaUploads, err)
	}
	return nil
}
