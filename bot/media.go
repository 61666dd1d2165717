package bot

import (
	"context"
	"io"
	"time"
)

// MediaKind says how a file is shown: a picture, a document or a video.
type MediaKind string

// The kinds of files a call to action carries.
const (
	MediaImage    MediaKind = "image"    // a poster: JPEG or PNG
	MediaDocument MediaKind = "document" // a PDF
	MediaVideo    MediaKind = "video"    // a short MP4
)

// Media is a file sent with a message: its text becomes the caption.
type Media struct {
	// SHA256 is the lower-case hex SHA-256 of the content. It names the
	// file in the bot's media store, and a channel remembers its upload
	// under it, so one file goes up to a platform once however many people
	// it is sent to.
	SHA256 string
	Kind   MediaKind
	// MIME is the type found in the content ("image/png", "application/pdf", "video/mp4").
	MIME string
	Size int64
	// Name is the file's name, shown with a document.
	Name string
	// Open reads the content from its start.
	Open func() (io.ReadCloser, error)
}

// MediaSender is implemented by channels that can send a file. Send
// ignores Outgoing.Media; the outbox uses SendMedia where a channel has
// it, and elsewhere sends the text with a line naming the file.
type MediaSender interface {
	// SendMedia sends msg.Media with msg.Text as its caption and msg.Buttons
	// beneath. A text too long for a caption follows as messages of its
	// own, the buttons on the last. It returns the platform ID of the last
	// message sent. Errors are those of Sender.Send.
	SendMedia(ctx context.Context, msg Outgoing) (string, error)
}

// MediaSenderOf returns s's MediaSender, looking through wrappers.
func MediaSenderOf(s Sender) (MediaSender, bool) {
	for s != nil {
		if m, ok := s.(MediaSender); ok {
			return m, true
		}
		u, ok := s.(Unwrapper)
		if !ok {
			return nil, false
		}
		s = u.Unwrap()
	}
	return nil, false
}

// IncomingFile is a file a person sent, as a channel delivers it: what the
// platform says of it, and a way to fetch its bytes. The bot fetches only
// the files it asked for (a poster at that step of a wizard), outside any
// transaction, and checks the type from the content, not from MIME or Name.
type IncomingFile struct {
	// Name is the file's name where the platform gives one (documents).
	Name string
	// MIME is the type the platform reports; only a hint.
	MIME string
	// Size is the length in bytes the platform reports, 0 when it does not
	// say: a file said to be too large is refused before it is fetched.
	Size int64
	// Fetch reads the content. The caller closes it and reads no more than
	// it accepts.
	Fetch func(ctx context.Context) (io.ReadCloser, error)
}

// Upload is what a platform gave back for a file uploaded once, so the
// next sends refer to it instead of uploading again.
type Upload struct {
	// Ref is the platform's reference: a Telegram file_id, the encoded
	// upload answer of WhatsApp's media servers.
	Ref string
	At  time.Time
	// Expires, when set, is when the reference stops working and the file
	// must be uploaded again.
	Expires time.Time
}

// Uploads keeps the uploads of each platform account across restarts;
// *store.Store implements it. An account is a channel's own name for the
// account a reference is valid for ("telegram:123456" for a bot).
type Uploads interface {
	// Upload returns the upload of the file sha on account; ok is false
	// when there is none.
	Upload(ctx context.Context, account, sha string) (u Upload, ok bool, err error)
	// SaveUpload records it, replacing any earlier one.
	SaveUpload(ctx context.Context, account, sha string, u Upload) error
	// ForgetUpload drops it: the platform refused the reference.
	ForgetUpload(ctx context.Context, account, sha string) error
}
