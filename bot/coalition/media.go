package coalition

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"mobilise/bot"
	"mobilise/bot/outbox"
	"mobilise/messages"
	"mobilise/store"
)

// ErrNoMedia: the bot was started without a media directory.
var ErrNoMedia = errors.New("files are not configured")

// fetchTimeout bounds the fetch of one file a person sent.
const fetchTimeout = 2 * time.Minute

// WithMedia sets where the files of campaigns and broadcasts are kept (the
// data directory's media directory). Without it files are refused.
func WithMedia(files *store.MediaFiles) Option { return func(r *rules) { r.files = files } }

// Media keeps the posters, PDFs and short videos coordinators attach to
// campaigns and broadcasts: by the content's SHA-256, of a type found in
// the content, no larger than the limit.
type Media struct{ *rules }

// Limit is the largest file kept, in bytes; 0 when files are off.
func (md *Media) Limit() int64 {
	if md.files == nil {
		return 0
	}
	return md.files.Max()
}

// Keep keeps the content of r, named name, for a campaign or broadcast.
// Whoever may organise keeps files: the coalition's coordinators and
// admins, and a member institution's people. A file over the limit is
// store.ErrMediaTooLarge, one that is not a JPEG, PNG, PDF or MP4 store.ErrMediaType.
func (md *Media) Keep(ctx context.Context, by Actor, name string, r io.Reader) (*store.Media, error) {
	if ok, err := md.mayOrganise(ctx, by); err != nil || !ok {
		return nil, errors.Join(err, notAllowedUnless(ok))
	}
	if md.files == nil {
		return nil, ErrNoMedia
	}
	m, err := md.files.Put(r, name)
	if err != nil {
		return nil, err
	}
	md.log.Info("file kept", "sha256", m.SHA256, "kind", string(m.Kind), "bytes", m.Size, "by", by.Person)
	return m, nil
}

// KeepIncoming fetches a file a person sent and keeps it, as Keep does. A
// file the platform says is over the limit is refused before it is fetched.
func (md *Media) KeepIncoming(ctx context.Context, by Actor, f *bot.IncomingFile) (*store.Media, error) {
	if ok, err := md.mayOrganise(ctx, by); err != nil || !ok {
		return nil, errors.Join(err, notAllowedUnless(ok))
	}
	if md.files == nil {
		return nil, ErrNoMedia
	}
	if f.Size > md.files.Max() {
		return nil, store.ErrMediaTooLarge
	}
	if f.Fetch == nil {
		return nil, errors.New("the channel cannot fetch this file")
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	r, err := f.Fetch(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetching a file: %w", err)
	}
	defer r.Close()
	return md.Keep(ctx, by, f.Name, r)
}

// Recall is the record of a file kept before, by its SHA-256 (a form
// carries it from the preview to the send), its type read from the file.
func (md *Media) Recall(ctx context.Context, by Actor, sha, name string) (*store.Media, error) {
	if !by.can(store.RoleCoordinator) {
		return nil, ErrNotAllowed
	}
	if md.files == nil {
		return nil, ErrNoMedia
	}
	return md.files.Record(sha, name)
}

// checkMedia checks that a draft's file is kept.
func (r *rules) checkMedia(m *store.Media) error {
	if m == nil {
		return nil
	}
	if r.files == nil || !r.files.Has(m.SHA256) {
		return invalid("media", messages.MediaFetchFailed)
	}
	return nil
}

// SetMedia gives a campaign its poster, PDF or video, shown to whoever
// opens it; nil removes it. Whoever may change the campaign sets it (the
// coalition's staff, the people of the institution that leads it); it
// goes into the audit log.
func (cs *Campaigns) SetMedia(ctx context.Context, by Actor, id uint64, m *store.Media) (*store.Campaign, error) {
	if ok, err := cs.mayOrganise(ctx, by); err != nil || !ok {
		return nil, errors.Join(err, notAllowedUnless(ok))
	}
	c, err := cs.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if ok, err := cs.mayRun(ctx, by, c.Organiser); err != nil || !ok {
		return c, errors.Join(err, notAllowedUnless(ok))
	}
	if err := cs.checkMedia(m); err != nil {
		return nil, err
	}
	err = cs.st.InTx(ctx, func(ctx context.Context) error {
		var err error
		c, err = cs.st.UpdateCampaign(ctx, id, func(c *store.Campaign) error {
			c.Media = m
			return nil
		})
		if err != nil {
			return notFound(err)
		}
		details := map[string]string{"campaign_id": strconv.FormatUint(id, 10)}
		if m != nil {
			details["sha256"], details["name"], details["mime"] = m.SHA256, m.Name, m.MIME
		}
		return cs.audit(ctx, by.Person, "campaign_media", details)
	})
	return c, err
}

// MediaLine names a file, its kind and size, in lang: what a channel that
// cannot show it shows, and what the preview and the approval say.
func (w Words) MediaLine(lang string, m *store.Media) string {
	kind := map[bot.MediaKind]messages.Key{bot.MediaImage: messages.MediaKindImage, bot.MediaVideo: messages.MediaKindVideo}[m.Kind]
	if kind == "" {
		kind = messages.MediaKindDocument
	}
	return w.Cat.Text(lang, messages.MediaLine, map[string]any{
		"Kind": w.Cat.Text(lang, kind, nil), "Name": messages.Isolate(m.Name), "Size": w.Size(lang, m.Size),
	})
}

// DescribeMedia implements outbox.Describer.
func (w Words) DescribeMedia(lang string, m *store.Media) string { return w.MediaLine(lang, m) }

var _ outbox.Describer = Words{}

// Size is a file's size in lang: kilobytes under a megabyte, else megabytes, rounded up.
func (w Words) Size(lang string, n int64) string {
	if n < 1<<20 {
		return w.Cat.Text(lang, messages.MediaSizeKB, map[string]any{"N": messages.FormatNumber(lang, int((n+1023)/1024))})
	}
	return w.Cat.Text(lang, messages.MediaSizeMB, map[string]any{"N": messages.FormatNumber(lang, int((n+1<<20-1)>>20))})
}

// notifyAdminsWith is notifyAdmins for a notice that carries a file: the
// admins who approve a broadcast see its poster as people will.
func (r *rules) notifyAdminsWith(ctx context.Context, except uint64, kind store.MessageKind, m *store.Media, render func(lang string) (string, [][]bot.Button)) error {
	if m == nil {
		return r.notifyAdmins(ctx, except, kind, render)
	}
	admins, err := r.adminContacts(ctx)
	if err != nil {
		return err
	}
	var notices []outbox.Notice
	for _, a := range admins {
		if a.ID != except {
			notices = append(notices, outbox.Notice{ContactID: a.ID, Kind: kind, Render: render, Media: m})
		}
	}
	return r.out.Notify(ctx, notices...)
}

// withMediaLine adds the line naming a broadcast's file to what the
// approver reads.
func (w Words) withMediaLine(content, lang string, m *store.Media) string {
	if m == nil {
		return content
	}
	return content + "\n" + w.Cat.Text(lang, messages.MediaPreview, map[string]any{"File": w.MediaLine(lang, m)})
}

// mediaSHA is the SHA-256 of a file for the audit log, "" for none.
func mediaSHA(m *store.Media) string {
	if m == nil {
		return ""
	}
	return m.SHA256
}
