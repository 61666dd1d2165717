package telegram

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	tgbot "github.com/go-telegram/bot"
	tgmodels "github.com/go-telegram/bot/models"

	"mobilise/bot"
)

// maxCaptionLen is Telegram's limit on a caption, counted as text is
// (UTF-16 units after entity parsing); a longer text follows the file as
// messages of its own.
const maxCaptionLen = 1024

// maxFetch bounds a file fetched from Telegram: the Bot API hands bots
// files of up to 20 MB.
const maxFetch = 20 << 20

// WithUploads keeps the file_id Telegram gives each uploaded file in u,
// per bot, so a file is uploaded once and sent by reference afterwards,
// across restarts too. Without it the file_ids are kept in memory only.
func WithUploads(u bot.Uploads) Option { return func(c *Channel) { c.uploads = u } }

// files is the channel's memory of uploads: file_ids known, and the
// uploads under way, which sends of the same file wait for.
type files struct {
	mu        sync.Mutex
	ids       map[string]string
	uploading map[string]chan struct{}
}

// account names this bot in the store of uploads: file_ids are valid for
// the bot that got them, whatever its token becomes.
func (c *Channel) account() string {
	id, _, _ := strings.Cut(c.token, ":")
	return "telegram:" + id
}

// SendMedia implements bot.MediaSender: the file with msg.Text as its
// caption and the buttons under it. A text over 1,024 characters goes as
// messages after the file (the buttons on the last), each taking its own
// tokens, as the parts of a long message do. The first send of a file
// uploads it, and the file_id Telegram gives back is kept; later sends,
// also those waiting for the upload meanwhile, refer to it. A file_id that
// Telegram refuses is forgotten and the file uploaded again. It returns
// the ID of the last message.
func (c *Channel) SendMedia(ctx context.Context, msg bot.Outgoing) (string, error) {
	m := msg.Media
	if m == nil {
		return c.Send(ctx, msg)
	}
	if msg.To.Channel != channelName {
		return "", fmt.Errorf("telegram: send to %s: not a telegram address", msg.To)
	}
	if _, err := strconv.ParseInt(msg.To.ID, 10, 64); err != nil {
		return "", fmt.Errorf("telegram: send to %s: chat ID is not a number", msg.To)
	}
	markup, err := inlineKeyboard(msg.Buttons)
	if err != nil {
		return "", fmt.Errorf("telegram: %s to %s: %w", fileMethod(m.Kind), msg.To, err)
	}
	caption, rest := strings.TrimSpace(msg.Text), []string(nil)
	if utf16Len(caption) > maxCaptionLen {
		caption, rest = "", splitText(msg.Text, maxTextLen)
	}
	var fileMarkup any
	if len(rest) == 0 {
		fileMarkup = c.replyMarkup(msg, markup)
	}
	id, err := c.sendFile(ctx, msg.To, m, caption, fileMarkup)
	if err != nil {
		return "", err
	}
	for i, part := range rest {
		params := &tgbot.SendMessageParams{ChatID: msg.To.ID, Text: escapeHTML(part), ParseMode: tgmodels.ParseModeHTML}
		if i == len(rest)-1 {
			params.ReplyMarkup = c.replyMarkup(msg, markup)
		}
		var sent *tgmodels.Message
		err := c.sendPart(ctx, msg.To, i+1, func(ctx context.Context) error {
			var err error
			sent, err = c.api.SendMessage(ctx, params)
			return err
		})
		if err != nil {
			return "", c.sendError(fmt.Sprintf("%s (text %d of %d after the file)", msg.To, i+1, len(rest)), err)
		}
		id = strconv.Itoa(sent.ID)
	}
	return id, nil
}

// fileMethod is the Bot API method that sends a file of kind.
func fileMethod(k bot.MediaKind) string {
	switch k {
	case bot.MediaImage:
		return "sendPhoto"
	case bot.MediaVideo:
		return "sendVideo"
	}
	return "sendDocument"
}

// tokenTaker is a throttle that paces messages (outbox.Pacer): a send
// that waited for another's upload takes a token afresh, so the sends that
// waited do not reach Telegram all at once.
type tokenTaker interface {
	Take(ctx context.Context) error
}

// sendFile sends the file itself, by file_id when it is known, else
// uploading it (one upload per file at a time: the others wait for it).
func (c *Channel) sendFile(ctx context.Context, to bot.Address, m *bot.Media, caption string, markup any) (string, error) {
	waited := false
	for {
		id, known, err := c.fileID(ctx, m.SHA256)
		if err != nil {
			return "", err
		}
		if known {
			if waited {
				if p, ok := c.throttle.(tokenTaker); ok {
					if err := p.Take(ctx); err != nil {
						return "", err
					}
				}
			}
			msgID, _, err := c.postFile(ctx, to, m, caption, markup, id)
			if err == nil || !staleFileID(err) {
				return msgID, err
			}
			c.log.Warn("telegram refused a file_id; uploading the file again", "sha256", m.SHA256, "error", c.redactString(err.Error()))
			if err := c.forgetFileID(ctx, m.SHA256, id); err != nil {
				return "", err
			}
			continue
		}
		done, mine := c.claimUpload(m.SHA256)
		if !mine {
			select {
			case <-done:
				waited = true
				continue
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		msgID, fileID, err := c.postFile(ctx, to, m, caption, markup, "")
		if err == nil && fileID != "" {
			err = c.keepFileID(ctx, m.SHA256, fileID)
		}
		c.releaseUpload(m.SHA256, done)
		return msgID, err
	}
}

// staleFileID reports whether Telegram refused a file_id as unknown.
func staleFileID(err error) bool {
	if !errors.Is(err, tgbot.ErrorBadRequest) {
		return false
	}
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "file identifier") || strings.Contains(s, "file reference") || strings.Contains(s, "wrong remote file")
}

// fileID returns the file_id of the file sha, from memory or the store.
func (c *Channel) fileID(ctx context.Context, sha string) (string, bool, error) {
	c.files.mu.Lock()
	id, ok := c.files.ids[sha]
	c.files.mu.Unlock()
	if ok || c.uploads == nil {
		return id, ok, nil
	}
	u, ok, err := c.uploads.Upload(ctx, c.account(), sha)
	if err != nil || !ok {
		return "", false, err
	}
	c.files.mu.Lock()
	c.files.ids[sha] = u.Ref
	c.files.mu.Unlock()
	return u.Ref, true, nil
}

// keepFileID remembers the file_id an upload gave.
func (c *Channel) keepFileID(ctx context.Context, sha, id string) error {
	c.files.mu.Lock()
	c.files.ids[sha] = id
	c.files.mu.Unlock()
	if c.uploads == nil {
		return nil
	}
	// the file went out: a failure to keep the id costs another upload, not the message
	if err := c.uploads.SaveUpload(ctx, c.account(), sha, bot.Upload{Ref: id, At: c.now()}); err != nil {
		c.log.Error("keeping a file_id", "sha256", sha, "error", err)
	}
	return nil
}

// forgetFileID drops a file_id Telegram refused, unless another send has
// put a newer one in its place meanwhile.
func (c *Channel) forgetFileID(ctx context.Context, sha, id string) error {
	c.files.mu.Lock()
	if c.files.ids[sha] == id {
		delete(c.files.ids, sha)
	}
	c.files.mu.Unlock()
	if c.uploads == nil {
		return nil
	}
	return c.uploads.ForgetUpload(ctx, c.account(), sha)
}

// claimUpload makes the caller the uploader of sha (mine), or returns
// the channel closed when the upload under way ends.
func (c *Channel) claimUpload(sha string) (done chan struct{}, mine bool) {
	c.files.mu.Lock()
	defer c.files.mu.Unlock()
	if ch, ok := c.files.uploading[sha]; ok {
		return ch, false
	}
	ch := make(chan struct{})
	c.files.uploading[sha] = ch
	return ch, true
}

func (c *Channel) releaseUpload(sha string, done chan struct{}) {
	c.files.mu.Lock()
	delete(c.files.uploading, sha)
	c.files.mu.Unlock()
	close(done)
}

// postFile makes one sendPhoto, sendDocument or sendVideo call: by file_id
// when fileID is set, else uploading the content (read afresh for each
// try). It returns the message ID and the file_id Telegram gave the file.
func (c *Channel) postFile(ctx context.Context, to bot.Address, m *bot.Media, caption string, markup any, fileID string) (string, string, error) {
	var sent *tgmodels.Message
	err := c.call(ctx, func(ctx context.Context) error {
		var input tgmodels.InputFile = &tgmodels.InputFileString{Data: fileID}
		if fileID == "" {
			r, err := m.Open()
			if err != nil {
				return &fileError{err}
			}
			defer r.Close()
			// a pointer: go-telegram refuses a reader it cannot test for nil
			input = &tgmodels.InputFileUpload{Filename: m.Name, Data: &contentReader{r}}
		}
		var err error
		switch m.Kind {
		case bot.MediaImage:
			p := &tgbot.SendPhotoParams{ChatID: to.ID, Photo: input, ReplyMarkup: markup}
			if caption != "" {
				p.Caption, p.ParseMode = escapeHTML(caption), tgmodels.ParseModeHTML
			}
			sent, err = c.api.SendPhoto(ctx, p)
		case bot.MediaVideo:
			p := &tgbot.SendVideoParams{ChatID: to.ID, Video: input, ReplyMarkup: markup, SupportsStreaming: true}
			if caption != "" {
				p.Caption, p.ParseMode = escapeHTML(caption), tgmodels.ParseModeHTML
			}
			sent, err = c.api.SendVideo(ctx, p)
		default:
			p := &tgbot.SendDocumentParams{ChatID: to.ID, Document: input, ReplyMarkup: markup}
			if caption != "" {
				p.Caption, p.ParseMode = escapeHTML(caption), tgmodels.ParseModeHTML
			}
			sent, err = c.api.SendDocument(ctx, p)
		}
		return err
	})
	var fe *fileError
	if errors.As(err, &fe) {
		return "", "", fmt.Errorf("telegram: %s to %s: reading the file: %w", fileMethod(m.Kind), to, fe.err)
	}
	if err != nil {
		return "", "", c.methodError(fileMethod(m.Kind), to.String(), err)
	}
	return strconv.Itoa(sent.ID), sentFileID(sent), nil
}

// contentReader is a file's content as the Bot API client reads it.
type contentReader struct{ io.Reader }

// fileError is a file that could not be read: not the platform's fault,
// and not worth a retry of the call.
type fileError struct{ err error }

func (e *fileError) Error() string { return e.err.Error() }
func (e *fileError) Unwrap() error { return e.err }

// methodError maps a failed call of method onto the errors bot.Channel
// promises, as sendError does for sendMessage.
func (c *Channel) methodError(method, where string, err error) error {
	var throttled *bot.ThrottledError
	switch {
	case errors.As(err, &throttled):
		return fmt.Errorf("telegram: %s to %s: %w", method, where, throttled)
	case errors.Is(err, tgbot.ErrorForbidden):
		return fmt.Errorf("telegram: %s to %s: %w (%s)", method, where, bot.ErrRecipientGone, c.redactString(err.Error()))
	case errors.Is(err, tgbot.ErrorUnauthorized):
		return fmt.Errorf("telegram: %s to %s: %w", method, where, ErrUnauthorized)
	default:
		return fmt.Errorf("telegram: %s to %s: %w", method, where, c.redact(err))
	}
}

// sentFileID is the file_id of the file a message carries: the largest
// size of a photo (Telegram makes several), else the document or video.
func sentFileID(m *tgmodels.Message) string {
	switch {
	case m == nil:
		return ""
	case len(m.Photo) > 0:
		best := m.Photo[0]
		for _, p := range m.Photo[1:] {
			if p.Width*p.Height > best.Width*best.Height {
				best = p
			}
		}
		return best.FileID
	case m.Video != nil:
		return m.Video.FileID
	case m.Document != nil:
		return m.Document.FileID
	}
	return ""
}

// incomingFile describes the photo, document or video of a message, and
// its file_id; nil for none. A photo is its largest size.
func incomingFile(m *tgmodels.Message) (*bot.IncomingFile, string) {
	switch {
	case len(m.Photo) > 0:
		best := m.Photo[0]
		for _, p := range m.Photo[1:] {
			if p.Width*p.Height > best.Width*best.Height {
				best = p
			}
		}
		return &bot.IncomingFile{MIME: "image/jpeg", Size: int64(best.FileSize)}, best.FileID
	case m.Document != nil:
		d := m.Document
		return &bot.IncomingFile{Name: d.FileName, MIME: d.MimeType, Size: d.FileSize}, d.FileID
	case m.Video != nil:
		v := m.Video
		return &bot.IncomingFile{Name: v.FileName, MIME: v.MimeType, Size: v.FileSize}, v.FileID
	}
	return nil, ""
}

// fetchable gives the file of an update's message, if any, its Fetch.
func (c *Channel) fetchable(in *bot.Incoming, u *tgmodels.Update) {
	if in.File == nil || u.Message == nil {
		return
	}
	_, id := incomingFile(u.Message)
	c.withFetch(in, id)
}

// withFetch gives an incoming file its Fetch: getFile, then the download
// from the Bot API's file URL, both through the channel's gate.
func (c *Channel) withFetch(in *bot.Incoming, fileID string) {
	if in.File == nil || fileID == "" {
		return
	}
	in.File.Fetch = func(ctx context.Context) (io.ReadCloser, error) {
		var f *tgmodels.File
		err := c.call(ctx, func(ctx context.Context) error {
			var err error
			f, err = c.api.GetFile(ctx, &tgbot.GetFileParams{FileID: fileID})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("telegram: getFile: %w", c.redact(err))
		}
		if f.FileSize > maxFetch {
			return nil, fmt.Errorf("telegram: getFile: %d bytes, over the %d a bot may fetch", f.FileSize, maxFetch)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.api.FileDownloadLink(f), nil)
		if err != nil {
			return nil, fmt.Errorf("telegram: fetching a file: %w", c.redact(err))
		}
		resp, err := c.httpClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("telegram: fetching a file: %w", c.redact(err))
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("telegram: fetching a file: status %d", resp.StatusCode)
		}
		return resp.Body, nil
	}
}
