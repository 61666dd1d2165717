package telegram

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // photos uploaded are decoded, as Telegram does
	_ "image/png"
	"net/http"
	"strconv"
	"sync"
	"time"

	"mobilise/bot"
)

// fakeUpload is a file part of a multipart request.
type fakeUpload struct {
	Name string
	Data []byte
}

// fakeFile is a file the fake holds, under its file_id.
type fakeFile struct {
	kind string // "photo", "document", "video": Telegram's file_ids are of one kind
	data []byte
	path string
	// width and height of a photo
	width, height int
}

// fakeMediaMessage is a message with a file the fake delivered, for
// copyMessage.
type fakeMediaMessage struct {
	fileID, caption string
}

// fakeMedia is what the fake knows of files; guarded by fakeTelegram.mu.
type fakeMedia struct {
	files map[string]*fakeFile
	// uploads counts the files uploaded to the fake, per SHA-256 of content
	uploads map[string]int
	// byRef counts the sends that named a file by its file_id
	byRef    int
	messages map[string]map[int]fakeMediaMessage
	next     int
}

func newFakeMedia() fakeMedia {
	return fakeMedia{files: map[string]*fakeFile{}, uploads: map[string]int{}, messages: map[string]map[int]fakeMediaMessage{}}
}

// Telegram's limits on files a bot sends.
const (
	fakeMaxPhoto = 10 << 20
	fakeMaxFile  = 50 << 20
)

// fileParam is the parameter of method that carries the file, and its kind.
func fileParam(method string) (param, kind string) {
	switch method {
	case "sendPhoto":
		return "photo", "photo"
	case "sendVideo":
		return "video", "video"
	}
	return "document", "document"
}

// checkMediaMethod applies what the Bot API says of sending files: a file
// is uploaded (a photo that decodes as a JPEG or PNG of at most 10 MB, an
// MP4 video, a document, at most 50 MB) or named by a file_id of its kind
// that this bot was given; a caption is at most 1,024 characters of valid
// HTML; copyMessage copies a message the bot sent.
func (f *fakeTelegram) checkMediaMethod(method string, form map[string]string, uploads map[string]fakeUpload) error {
	if caption, ok := form["caption"]; ok {
		text := caption
		if pm := form["parse_mode"]; pm != "" {
			if pm != "HTML" {
				return fmt.Errorf("parse mode %q: this bot uses HTML", pm)
			}
			plain, err := parseTelegramHTML(caption)
			if err != nil {
				return fmt.Errorf("can't parse caption entities: %w", err)
			}
			text = plain
		}
		if utf16Len(text) > 1024 {
			return errors.New("message caption is too long")
		}
	} else if form["parse_mode"] != "" {
		return errors.New("parse_mode without a caption")
	}
	if err := f.checkMarkup(form); err != nil {
		return err
	}
	if method == "copyMessage" {
		msgID, _ := strconv.Atoi(form["message_id"])
		f.mu.Lock()
		_, media := f.media.messages[form["from_chat_id"]][msgID]
		_, text := f.sent[form["from_chat_id"]][msgID]
		f.mu.Unlock()
		switch {
		case !media && !text:
			return errors.New("message to copy not found")
		case text && form["caption"] != "":
			return errors.New("a text message has no caption to replace")
		}
		return nil
	}
	param, kind := fileParam(method)
	if up, ok := uploads[param]; ok {
		switch {
		case len(up.Data) == 0:
			return errors.New("file must be non-empty")
		case kind == "photo" && len(up.Data) > fakeMaxPhoto:
			return errors.New("PHOTO_INVALID: over 10 MB")
		case len(up.Data) > fakeMaxFile:
			return errors.New("Request Entity Too Large")
		}
		switch kind {
		case "photo":
			cfg, format, err := image.DecodeConfig(bytes.NewReader(up.Data))
			if err != nil || (format != "jpeg" && format != "png") {
				return fmt.Errorf("IMAGE_PROCESS_FAILED: %v", err)
			}
			if cfg.Width+cfg.Height > 10000 {
				return errors.New("PHOTO_INVALID_DIMENSIONS")
			}
		case "video":
			if ct := http.DetectContentType(up.Data); ct != "video/mp4" {
				return fmt.Errorf("wrong type of the web page content: %s", ct)
			}
		}
		return nil
	}
	id := form[param]
	f.mu.Lock()
	file := f.media.files[id]
	f.mu.Unlock()
	switch {
	case file == nil:
		return errors.New("wrong file identifier/HTTP URL specified")
	case file.kind != kind:
		return fmt.Errorf("wrong file identifier: can't use file of type %s as %s", file.kind, kind)
	}
	return nil
}

// checkMarkup checks an inline keyboard's buttons.
func (f *fakeTelegram) checkMarkup(form map[string]string) error {
	rm, ok := form["reply_markup"]
	if !ok {
		return nil
	}
	var kb struct {
		InlineKeyboard [][]map[string]any `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(rm), &kb); err != nil {
		return err
	}
	for _, row := range kb.InlineKeyboard {
		for _, b := range row {
			if err := checkInlineButton(b); err != nil {
				return err
			}
		}
	}
	return nil
}

// sendMedia answers a valid sendPhoto, sendDocument, sendVideo or
// copyMessage: a file uploaded gets file_ids (a photo two sizes, each its
// own), and the message is delivered.
func (f *fakeTelegram) sendMedia(w http.ResponseWriter, method string, form map[string]string, uploads map[string]fakeUpload) {
	chat := form["chat_id"]
	chatID, _ := strconv.ParseInt(chat, 10, 64)
	f.mu.Lock()
	blocked := f.forbidden[chat]
	f.nextMsgID++
	id := f.nextMsgID
	f.mu.Unlock()
	if blocked {
		writeError(w, 403, "Forbidden: bot was blocked by the user")
		return
	}
	if method == "copyMessage" {
		from, _ := strconv.Atoi(form["message_id"])
		f.mu.Lock()
		orig, ok := f.media.messages[form["from_chat_id"]][from]
		if ok {
			if c, set := form["caption"]; set {
				orig.caption = c
			}
			f.keepMediaMessage(chat, id, orig)
		} else {
			f.keepText(chat, id, f.sent[form["from_chat_id"]][from])
		}
		f.mu.Unlock()
		writeResult(w, map[string]any{"message_id": id})
		return
	}
	param, kind := fileParam(method)
	f.mu.Lock()
	fileID := form[param]
	if fileID == "" {
		fileID = f.keepUpload(kind, uploads[param])
	} else {
		f.media.byRef++
	}
	file := f.media.files[fileID]
	f.keepMediaMessage(chat, id, fakeMediaMessage{fileID: fileID, caption: form["caption"]})
	f.mu.Unlock()
	msg := map[string]any{"message_id": id, "date": time.Now().Unix(), "chat": map[string]any{"id": chatID, "type": "private"}}
	if c := form["caption"]; c != "" {
		msg["caption"] = c
	}
	unique := func(id string) string { return "u" + id }
	switch kind {
	case "photo":
		thumb := fileID + "-s"
		msg["photo"] = []map[string]any{
			{"file_id": thumb, "file_unique_id": unique(thumb), "width": 90, "height": 90 * file.height / max(file.width, 1)},
			{"file_id": fileID, "file_unique_id": unique(fileID), "width": file.width, "height": file.height, "file_size": len(file.data)},
		}
	case "video":
		msg["video"] = map[string]any{"file_id": fileID, "file_unique_id": unique(fileID), "width": 640, "height": 360, "duration": 5, "file_size": len(file.data)}
	default:
		msg["document"] = map[string]any{"file_id": fileID, "file_unique_id": unique(fileID), "file_size": len(file.data)}
	}
	writeResult(w, msg)
}

// keepUpload gives an uploaded file its file_id; called with f.mu held.
func (f *fakeTelegram) keepUpload(kind string, up fakeUpload) string {
	sum := sha256.Sum256(up.Data)
	f.media.uploads[hex.EncodeToString(sum[:])]++
	f.media.next++
	id := fmt.Sprintf("%s-%d-%x", kind, f.media.next, sum[:4])
	file := &fakeFile{kind: kind, data: up.Data, path: fmt.Sprintf("%ss/file_%d", kind, f.media.next)}
	if kind == "photo" {
		cfg, _, _ := image.DecodeConfig(bytes.NewReader(up.Data))
		file.width, file.height = cfg.Width, cfg.Height
		// the smaller size Telegram makes is a photo too
		f.media.files[id+"-s"] = &fakeFile{kind: kind, data: up.Data, path: file.path + "_s", width: 90, height: 90}
	}
	f.media.files[id] = file
	return id
}

// keepMediaMessage and keepText record a delivered message; called with f.mu held.
func (f *fakeTelegram) keepMediaMessage(chat string, id int, m fakeMediaMessage) {
	if f.media.messages[chat] == nil {
		f.media.messages[chat] = map[int]fakeMediaMessage{}
	}
	f.media.messages[chat][id] = m
}

func (f *fakeTelegram) keepText(chat string, id int, text string) {
	if f.sent[chat] == nil {
		f.sent[chat] = map[int]string{}
	}
	f.sent[chat][id] = text
}

// addFile gives the fake a file a person sent, and returns its file_id.
func (f *fakeTelegram) addFile(kind string, data []byte) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.media.next++
	id := fmt.Sprintf("in-%s-%d", kind, f.media.next)
	f.media.files[id] = &fakeFile{kind: kind, data: data, path: fmt.Sprintf("%ss/in_%d", kind, f.media.next)}
	return id
}

// getFile answers with the file's path, from which it is downloaded.
func (f *fakeTelegram) getFile(w http.ResponseWriter, form map[string]string) {
	f.mu.Lock()
	file := f.media.files[form["file_id"]]
	f.mu.Unlock()
	if file == nil {
		writeError(w, 400, "Bad Request: invalid file_id")
		return
	}
	writeResult(w, map[string]any{"file_id": form["file_id"], "file_unique_id": "u" + form["file_id"], "file_size": len(file.data), "file_path": file.path})
}

// download serves a file by the path getFile gave.
func (f *fakeTelegram) download(w http.ResponseWriter, path string) {
	f.mu.Lock()
	var data []byte
	for _, file := range f.media.files {
		if file.path == path {
			data = file.data
		}
	}
	f.mu.Unlock()
	if data == nil {
		http.NotFound(w, nil)
		return
	}
	w.Write(data)
}

// mediaReport is what the fake saw of files.
type mediaReport struct {
	uploads map[string]int
	byRef   int
}

func (f *fakeTelegram) mediaReport() mediaReport {
	f.mu.Lock()
	defer f.mu.Unlock()
	up := map[string]int{}
	for k, v := range f.media.uploads {
		up[k] = v
	}
	return mediaReport{uploads: up, byRef: f.media.byRef}
}

// memUploads is an in-memory bot.Uploads.
type memUploads struct {
	mu sync.Mutex
	m  map[string]bot.Upload
}

func newMemUploads() *memUploads { return &memUploads{m: map[string]bot.Upload{}} }

func (u *memUploads) Upload(_ context.Context, account, sha string) (bot.Upload, bool, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	v, ok := u.m[account+" "+sha]
	return v, ok, nil
}

func (u *memUploads) SaveUpload(_ context.Context, account, sha string, v bot.Upload) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.m[account+" "+sha] = v
	return nil
}

func (u *memUploads) ForgetUpload(_ context.Context, account, sha string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.m, account+" "+sha)
	return nil
}
