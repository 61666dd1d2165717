package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"google.golang.org/protobuf/proto"

	"mobilise/bot"
)

const (
	// maxMedia is the largest file sent or fetched: WhatsApp's limit on a
	// video, and the bot's on every file.
	maxMedia = 16 << 20
	// maxCaption is the longest caption sent; a longer text follows the
	// file as a message of its own.
	maxCaption = 1024
	// defaultUploadTTL is how long an upload is sent by reference. WhatsApp
	// keeps uploaded media for some weeks (its URLs carry an expiry, "oe",
	// of about that), so well before then the file is uploaded again: a
	// reference past it would reach people as a picture that will not load.
	defaultUploadTTL = 7 * 24 * time.Hour
)

// WithUploads keeps the answers of WhatsApp's media servers in u, so a
// file is uploaded once and sent by reference until it expires (WithUploadTTL),
// across restarts too. Without it uploads are remembered in memory only.
func WithUploads(u bot.Uploads) Option { return func(c *Channel) { c.uploads = u } }

// WithUploadTTL sets how long an upload is reused before the file is
// uploaded again (default 7 days).
func WithUploadTTL(d time.Duration) Option {
	return func(c *Channel) {
		if d > 0 {
			c.uploadTTL = d
		}
	}
}

// mediaState is the channel's memory of uploads; mu is held during an
// upload, so sends of the same file wait for it rather than upload again.
type mediaState struct {
	mu   sync.Mutex
	refs map[string]upload
}

// upload is an answer of WhatsApp's media servers, as kept.
type upload struct {
	Resp    whatsmeow.UploadResponse `json:"resp"`
	Keys    uploadKeys               `json:"keys"`
	Expires time.Time                `json:"-"`
}

// uploadKeys are the fields of an UploadResponse that whatsmeow does not encode.
type uploadKeys struct {
	MediaKey      []byte `json:"media_key"`
	FileEncSHA256 []byte `json:"file_enc_sha256"`
	FileSHA256    []byte `json:"file_sha256"`
	FileLength    uint64 `json:"file_length"`
}

// account names the number in the store of uploads.
func (c *Channel) account() string { return "whatsapp:" + c.own }

// mediaType is whatsmeow's name for a kind of file: it keys the encryption.
func mediaType(k bot.MediaKind) whatsmeow.MediaType {
	switch k {
	case bot.MediaImage:
		return whatsmeow.MediaImage
	case bot.MediaVideo:
		return whatsmeow.MediaVideo
	}
	return whatsmeow.MediaDocument
}

// SendMedia implements bot.MediaSender: the file with msg.Text (and its
// buttons as numbered lines) as the caption, or, when that is longer than
// 1,024 characters, the file and then the text. The file is uploaded to
// WhatsApp's media servers (encrypted by whatsmeow) the first time, and
// the upload's reference sent afterwards until it is a week old. Errors
// are those of Send.
func (c *Channel) SendMedia(ctx context.Context, msg bot.Outgoing) (string, error) {
	m := msg.Media
	if m == nil {
		return c.Send(ctx, msg)
	}
	if msg.To.Channel != Name {
		return "", fmt.Errorf("whatsapp: send to %s: not a whatsapp address", msg.To)
	}
	to, err := recipientJID(msg.To.ID)
	if err != nil {
		return "", fmt.Errorf("whatsapp: send to %s: %w", msg.To, err)
	}
	if err := c.canSend(msg.To); err != nil {
		return "", err
	}
	up, err := c.uploaded(ctx, m)
	if err != nil {
		return "", fmt.Errorf("whatsapp: send to %s: %w", msg.To, err)
	}
	text := renderText(msg)
	caption, after := text, ""
	if len([]rune(text)) > maxCaption {
		caption, after = "", text
	}
	resp, err := c.client.SendMessage(ctx, to, mediaMessage(m, up, caption))
	if err != nil {
		return "", c.sendError(ctx, msg.To, to, err)
	}
	if after == "" {
		return resp.ID, nil
	}
	resp, err = c.client.SendMessage(ctx, to, &waE2E.Message{Conversation: &after})
	if err != nil {
		return "", c.sendError(ctx, msg.To, to, err)
	}
	return resp.ID, nil
}

// canSend refuses a send the channel knows cannot go now.
func (c *Channel) canSend(addr bot.Address) error {
	c.mu.Lock()
	loggedOut, until := c.loggedOut, c.bannedUntil
	c.mu.Unlock()
	switch {
	case loggedOut:
		return fmt.Errorf("whatsapp: send to %s: %w", addr, ErrLoggedOut)
	case c.now().Before(until):
		return fmt.Errorf("whatsapp: send to %s: banned until %s: %w", addr, until.Format(time.RFC3339), ErrSendBlocked)
	case !c.client.IsConnected():
		return fmt.Errorf("whatsapp: send to %s: %w", addr, ErrNotConnected)
	}
	return nil
}

// mediaMessage is the message that carries an uploaded file.
func mediaMessage(m *bot.Media, up upload, caption string) *waE2E.Message {
	r, k := up.Resp, up.Keys
	var cap *string
	if caption != "" {
		cap = proto.String(caption)
	}
	switch m.Kind {
	case bot.MediaImage:
		return &waE2E.Message{ImageMessage: &waE2E.ImageMessage{
			URL: proto.String(r.URL), DirectPath: proto.String(r.DirectPath), MediaKey: k.MediaKey,
			FileEncSHA256: k.FileEncSHA256, FileSHA256: k.FileSHA256, FileLength: proto.Uint64(k.FileLength),
			Mimetype: proto.String(m.MIME), Caption: cap,
		}}
	case bot.MediaVideo:
		return &waE2E.Message{VideoMessage: &waE2E.VideoMessage{
			URL: proto.String(r.URL), DirectPath: proto.String(r.DirectPath), MediaKey: k.MediaKey,
			FileEncSHA256: k.FileEncSHA256, FileSHA256: k.FileSHA256, FileLength: proto.Uint64(k.FileLength),
			Mimetype: proto.String(m.MIME), Caption: cap,
		}}
	}
	return &waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{
		URL: proto.String(r.URL), DirectPath: proto.String(r.DirectPath), MediaKey: k.MediaKey,
		FileEncSHA256: k.FileEncSHA256, FileSHA256: k.FileSHA256, FileLength: proto.Uint64(k.FileLength),
		Mimetype: proto.String(m.MIME), FileName: proto.String(m.Name), Title: proto.String(m.Name), Caption: cap,
	}}
}

// uploaded returns the file's upload that has not expired, uploading it
// if there is none.
func (c *Channel) uploaded(ctx context.Context, m *bot.Media) (upload, error) {
	c.media.mu.Lock()
	defer c.media.mu.Unlock()
	now := c.now()
	if up, ok := c.media.refs[m.SHA256]; ok && now.Before(up.Expires) {
		return up, nil
	}
	if c.uploads != nil {
		switch u, ok, err := c.uploads.Upload(ctx, c.account(), m.SHA256); {
		case err != nil:
			return upload{}, err
		case ok && now.Before(u.Expires):
			var up upload
			if err := json.Unmarshal([]byte(u.Ref), &up); err != nil {
				c.log.Warn("whatsapp: an upload kept cannot be read; uploading again", "sha256", m.SHA256, "error", err)
				break
			}
			up.Expires = u.Expires
			c.media.refs[m.SHA256] = up
			return up, nil
		}
	}
	data, err := readMedia(m)
	if err != nil {
		return upload{}, err
	}
	resp, err := c.client.Upload(ctx, data, mediaType(m.Kind))
	if err != nil {
		return upload{}, fmt.Errorf("uploading %s: %w", m.Name, err)
	}
	up := upload{Resp: resp, Keys: uploadKeys{MediaKey: resp.MediaKey, FileEncSHA256: resp.FileEncSHA256, FileSHA256: resp.FileSHA256, FileLength: resp.FileLength},
		Expires: now.Add(c.uploadTTL)}
	c.media.refs[m.SHA256] = up
	c.log.Info("whatsapp: file uploaded", "sha256", m.SHA256, "bytes", len(data), "until", up.Expires)
	if c.uploads != nil {
		ref, err := json.Marshal(up)
		if err == nil {
			err = c.uploads.SaveUpload(ctx, c.account(), m.SHA256, bot.Upload{Ref: string(ref), At: now, Expires: up.Expires})
		}
		if err != nil {
			// the file is up: a failure to keep the answer costs another upload after a restart
			c.log.Error("whatsapp: keeping an upload", "sha256", m.SHA256, "error", err)
		}
	}
	return up, nil
}

// readMedia reads a file to upload, at most maxMedia bytes.
func readMedia(m *bot.Media) ([]byte, error) {
	r, err := m.Open()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", m.Name, err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, maxMedia+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", m.Name, err)
	}
	if len(data) > maxMedia {
		return nil, fmt.Errorf("reading %s: over %d bytes", m.Name, maxMedia)
	}
	return data, nil
}

// incomingFile describes the image, document or video of a message, with
// a Fetch that downloads and decrypts it through whatsmeow; nil for none.
func (c *Channel) incomingFile(m *waE2E.Message) *bot.IncomingFile {
	var d whatsmeow.DownloadableMessage
	f := &bot.IncomingFile{}
	switch {
	case m.GetImageMessage() != nil:
		x := m.GetImageMessage()
		d, f.MIME, f.Size = x, x.GetMimetype(), int64(x.GetFileLength())
	case m.GetDocumentMessage() != nil:
		x := m.GetDocumentMessage()
		d, f.MIME, f.Size, f.Name = x, x.GetMimetype(), int64(x.GetFileLength()), x.GetFileName()
	case m.GetVideoMessage() != nil:
		x := m.GetVideoMessage()
		d, f.MIME, f.Size = x, x.GetMimetype(), int64(x.GetFileLength())
	default:
		return nil
	}
	f.Fetch = func(ctx context.Context) (io.ReadCloser, error) {
		if f.Size > maxMedia {
			return nil, fmt.Errorf("whatsapp: a file of %d bytes, over %d", f.Size, maxMedia)
		}
		data, err := c.client.Download(ctx, d)
		if err != nil {
			return nil, fmt.Errorf("whatsapp: downloading a file: %w", err)
		}
		return io.NopCloser(bytes.NewReader(data)), nil
	}
	return f
}
