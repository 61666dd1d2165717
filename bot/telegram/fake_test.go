package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testToken    = "123456:AAH-secret-test-token_xyz"
	testUsername = "mobilise_test_bot"
	// sharedSpec is the full Bot API description, beside the repository.
	sharedSpec = "../../../shared/telegram-bot-api/api.json"
	subsetSpec = "testdata/botapi.json"
)

var updateBotAPI = flag.Bool("update-botapi", false, "rewrite testdata/botapi.json from "+sharedSpec)

// specMethods and specTypes are what testdata/botapi.json keeps of the Bot
// API: the methods this package calls and the types their parameters use.
var (
	specMethods = []string{"getMe", "getUpdates", "sendMessage", "editMessageText", "answerCallbackQuery", "setMyCommands", "deleteMyCommands", "setWebhook", "deleteWebhook",
		"sendPhoto", "sendDocument", "sendVideo", "copyMessage", "getFile"}
	specTypes = []string{
		"InlineKeyboardMarkup", "InlineKeyboardButton", "BotCommand", "BotCommandScope",
		"BotCommandScopeDefault", "BotCommandScopeAllPrivateChats", "BotCommandScopeAllGroupChats",
		"BotCommandScopeAllChatAdministrators", "BotCommandScopeChat", "BotCommandScopeChatAdministrators",
		"BotCommandScopeChatMember", "CopyTextButton",
		"ReplyKeyboardMarkup", "KeyboardButton", "ReplyKeyboardRemove", "ForceReply",
		"KeyboardButtonRequestUsers", "KeyboardButtonRequestChat", "KeyboardButtonPollType",
		"WebAppInfo", "ChatAdministratorRights",
	}
	mustBePattern = regexp.MustCompile(`must be (\w+)`)
)

// botAPISpec is the subset of the Bot API the fake server enforces.
type botAPISpec struct {
	Version string                `json:"version"`
	Methods map[string]specObject `json:"methods"`
	Types   map[string]specObject `json:"types"`
}

type specObject struct {
	Fields   []specField `json:"fields,omitempty"`
	Subtypes []string    `json:"subtypes,omitempty"`
}

type specField struct {
	Name     string   `json:"name"`
	Types    []string `json:"types"`
	Required bool     `json:"required"`
	// MustBe is the one value a discriminator field ("type") takes.
	MustBe string `json:"must_be,omitempty"`
}

// trimSpec extracts the subset from the full api.json.
func trimSpec(full []byte) (*botAPISpec, error) {
	var src struct {
		Version string `json:"version"`
		Methods map[string]struct {
			Fields []struct {
				specField
				Description string `json:"description"`
			} `json:"fields"`
		} `json:"methods"`
		Types map[string]struct {
			Fields []struct {
				specField
				Description string `json:"description"`
			} `json:"fields"`
			Subtypes []string `json:"subtypes"`
		} `json:"types"`
	}
	if err := json.Unmarshal(full, &src); err != nil {
		return nil, err
	}
	out := &botAPISpec{Version: src.Version, Methods: map[string]specObject{}, Types: map[string]specObject{}}
	for _, name := range specMethods {
		m, ok := src.Methods[name]
		if !ok {
			return nil, fmt.Errorf("method %s not in the spec", name)
		}
		obj := specObject{Fields: []specField{}}
		for _, f := range m.Fields {
			obj.Fields = append(obj.Fields, f.specField)
		}
		out.Methods[name] = obj
	}
	for _, name := range specTypes {
		t, ok := src.Types[name]
		if !ok {
			return nil, fmt.Errorf("type %s not in the spec", name)
		}
		obj := specObject{Subtypes: t.Subtypes}
		for _, f := range t.Fields {
			sf := f.specField
			if m := mustBePattern.FindStringSubmatch(f.Description); m != nil && f.Name == "type" {
				sf.MustBe = m[1]
			}
			obj.Fields = append(obj.Fields, sf)
		}
		out.Types[name] = obj
	}
	return out, nil
}

func loadSpec(t testing.TB) *botAPISpec {
	t.Helper()
	data, err := os.ReadFile(subsetSpec)
	require.NoError(t, err)
	spec := &botAPISpec{}
	require.NoError(t, json.Unmarshal(data, spec))
	return spec
}

// TestBotAPISubset keeps testdata/botapi.json in step with the shared spec,
// when it is there; -update-botapi rewrites it.
func TestBotAPISubset(t *testing.T) {
	full, err := os.ReadFile(sharedSpec)
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("shared Bot API spec not beside the repository")
	}
	require.NoError(t, err)
	want, err := trimSpec(full)
	require.NoError(t, err)
	data, err := json.MarshalIndent(want, "", "  ")
	require.NoError(t, err)
	data = append(data, '\n')
	if *updateBotAPI {
		require.NoError(t, os.WriteFile(subsetSpec, data, 0o644))
	}
	got, err := os.ReadFile(subsetSpec)
	require.NoError(t, err)
	assert.Equal(t, string(data), string(got), "testdata/botapi.json is stale: go test ./bot/telegram -run TestBotAPISubset -update-botapi")
}

// fakeRequest is one call the fake received: the method and its parameters,
// each as the string the form carried (JSON for objects and arrays).
type fakeRequest struct {
	Method string
	Form   map[string]string
	// Files are the files uploaded with the request (multipart parts with a
	// file name), by parameter.
	Files map[string]fakeUpload
	// At is when the request arrived.
	At time.Time
}

// fakeTelegram is a strict Bot API server. It rejects unknown methods (404),
// unknown or missing parameters and wrongly typed ones (400), text over 4096
// characters, malformed HTML, callback_data over 64 bytes and invalid command
// lists, as Telegram does or stricter. Canned replies per method are used in
// order before the simulation; anything else is simulated: getUpdates serves
// a queue with offset semantics and long polling, sendMessage answers 403 for
// chats that blocked the bot. Simulated messages keep to Telegram's rates
// (fakeRates, in real time): one over a limit gets 429 with retry_after,
// and any request that comes inside a retry_after is a violation.
type fakeTelegram struct {
	*httptest.Server
	t    testing.TB
	spec *botAPISpec

	mu       sync.Mutex
	requests []fakeRequest
	// replies are canned bodies per method: a JSON answer (its error_code is
	// the HTTP status), "<drop>" to cut the connection, anything else a 502 page
	replies    map[string][]string
	violations []string
	// lenient stops violations failing the test, for tests of the fake itself
	lenient   bool
	forbidden map[string]bool
	updates   []queuedUpdate
	arrived   chan struct{}
	webhook   string
	nextMsgID int
	// sent holds the text of each message sent, by chat and message ID, so
	// an edit of a message that does not exist, or that changes nothing, is
	// refused as Telegram refuses it
	sent map[string]map[int]string
	rate rateState
	// servedAt is when each update was first handed out by getUpdates
	servedAt map[int64]time.Time
	// polling counts getUpdates calls waiting for an update
	polling int
	// media is what the fake knows of files: those uploaded to it and
	// those tests hand it as sent by people (addFile)
	media fakeMedia
}

func newFake(t testing.TB) *fakeTelegram {
	t.Helper()
	f := &fakeTelegram{
		t:         t,
		spec:      loadSpec(t),
		replies:   map[string][]string{},
		forbidden: map[string]bool{},
		arrived:   make(chan struct{}),
		nextMsgID: 100,
		sent:      map[string]map[int]string{},
		rate:      newRateState(),
		servedAt:  map[int64]time.Time{},
		media:     newFakeMedia(),
	}
	f.Server = httptest.NewServer(f)
	t.Cleanup(func() {
		f.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		if !f.lenient {
			assert.Empty(t, f.violations, "requests the Bot API would refuse")
		}
	})
	return f
}

// reply queues canned answers for method.
func (f *fakeTelegram) reply(method string, bodies ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies[method] = append(f.replies[method], bodies...)
}

// unused returns the canned replies not used yet.
func (f *fakeTelegram) unused() map[string][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]string{}
	for m, r := range f.replies {
		if len(r) > 0 {
			out[m] = slices.Clone(r)
		}
	}
	return out
}

// push adds updates to the getUpdates queue and wakes long polls.
func (f *fakeTelegram) push(updates ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range updates {
		f.updates = append(f.updates, queuedUpdate{id: updateID(f.t, []byte(u)), raw: json.RawMessage(u)})
	}
	close(f.arrived)
	f.arrived = make(chan struct{})
}

// pending returns the update IDs Telegram still holds (not confirmed).
func (f *fakeTelegram) pending() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []int64
	for _, u := range f.updates {
		ids = append(ids, u.id)
	}
	return ids
}

func (f *fakeTelegram) calls(method string) []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeRequest
	for _, r := range f.requests {
		if r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeTelegram) allCalls() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

// queuedUpdate is an update Telegram holds until an offset confirms it.
type queuedUpdate struct {
	id  int64
	raw json.RawMessage
}

func updateID(t testing.TB, raw []byte) int64 {
	var u struct {
		ID int64 `json:"update_id"`
	}
	require.NoError(t, json.Unmarshal(raw, &u))
	return u.ID
}

func (f *fakeTelegram) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	if path, ok := strings.CutPrefix(r.URL.Path, "/file/bot"+testToken+"/"); ok {
		f.download(w, path)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		writeAPI(w, `{"ok":false,"error_code":404,"description":"Not Found"}`)
		return
	}
	if token != testToken {
		writeAPI(w, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
		return
	}
	spec, ok := f.spec.Methods[method]
	if !ok {
		f.violation("unknown method %s", method)
		writeAPI(w, `{"ok":false,"error_code":404,"description":"Not Found: method not found"}`)
		return
	}
	form, uploads, err := readParams(r)
	if err != nil {
		f.violation("%s: %v", method, err)
		writeError(w, 400, "Bad Request: "+err.Error())
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, fakeRequest{Method: method, Form: form, Files: uploads, At: at})
	f.mu.Unlock()
	f.checkWindows(method, form["chat_id"], at)
	if err := f.checkParams(spec, form, uploads); err != nil {
		f.violation("%s: %v", method, err)
		writeError(w, 400, "Bad Request: "+err.Error())
		return
	}
	if err := f.checkMethod(method, form, uploads); err != nil {
		f.violation("%s: %v", method, err)
		writeError(w, 400, "Bad Request: "+err.Error())
		return
	}
	f.mu.Lock()
	var canned string
	if q := f.replies[method]; len(q) > 0 {
		canned, f.replies[method] = q[0], q[1:]
	}
	f.mu.Unlock()
	if canned != "" {
		f.writeCanned(w, canned)
		return
	}
	if wait, cause := f.admit(method, form["chat_id"], form["text"]+form["caption"], at, time.Now()); wait > 0 {
		f.tooManyRequests(w, wait, cause)
		return
	}
	f.simulate(w, r, method, form, uploads)
}

func (f *fakeTelegram) violation(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.violations = append(f.violations, fmt.Sprintf(format, args...))
}

func (f *fakeTelegram) writeCanned(w http.ResponseWriter, body string) {
	switch {
	case body == "<drop>":
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	case json.Valid([]byte(body)):
		writeAPI(w, body)
	default:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, body)
	}
}

// writeAPI writes a Bot API answer with its error_code, if any, as the status.
func writeAPI(w http.ResponseWriter, body string) {
	var r struct {
		ErrorCode int `json:"error_code"`
	}
	_ = json.Unmarshal([]byte(body), &r)
	w.Header().Set("Content-Type", "application/json")
	if r.ErrorCode != 0 {
		w.WriteHeader(r.ErrorCode)
	}
	io.WriteString(w, body)
}

func writeError(w http.ResponseWriter, code int, desc string) {
	writeAPI(w, marshalAPI(map[string]any{"ok": false, "error_code": code, "description": desc}))
}

func writeResult(w http.ResponseWriter, result any) {
	writeAPI(w, marshalAPI(map[string]any{"ok": true, "result": result}))
}

// marshalAPI encodes as Telegram does, without escaping <, > and &.
func marshalAPI(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return b.String()
}

// readParams reads parameters the three ways the Bot API takes them; the
// parts of a multipart form that carry a file name are files uploaded.
func readParams(r *http.Request) (map[string]string, map[string]fakeUpload, error) {
	form := map[string]string{}
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		files := map[string]fakeUpload{}
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return form, files, nil
			}
			if err != nil {
				return nil, nil, fmt.Errorf("reading form: %w", err)
			}
			v, err := io.ReadAll(p)
			if err != nil {
				return nil, nil, err
			}
			_, dup := form[p.FormName()]
			if _, dupFile := files[p.FormName()]; dup || dupFile {
				return nil, nil, fmt.Errorf("parameter %s twice", p.FormName())
			}
			if p.FileName() != "" {
				files[p.FormName()] = fakeUpload{Name: p.FileName(), Data: v}
				continue
			}
			form[p.FormName()] = string(v)
		}
	case "application/json":
		var m map[string]json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return nil, nil, fmt.Errorf("reading JSON: %w", err)
		}
		for k, v := range m {
			var s string
			if json.Unmarshal(v, &s) == nil {
				form[k] = s
			} else {
				form[k] = string(v)
			}
		}
		return form, nil, nil
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return nil, nil, err
		}
		for k := range r.PostForm {
			form[k] = r.PostForm.Get(k)
		}
		return form, nil, nil
	case "":
		return form, nil, nil
	}
	return nil, nil, fmt.Errorf("content type %q", ct)
}

// checkParams checks the parameters against the method's fields: a file
// uploaded only where the field takes an InputFile.
func (f *fakeTelegram) checkParams(spec specObject, form map[string]string, uploads map[string]fakeUpload) error {
	known := map[string]specField{}
	for _, fl := range spec.Fields {
		known[fl.Name] = fl
		_, ok := form[fl.Name]
		_, uploaded := uploads[fl.Name]
		if fl.Required && !ok && !uploaded {
			return fmt.Errorf("parameter %s is required", fl.Name)
		}
	}
	for name := range uploads {
		if fl, ok := known[name]; !ok || !slices.Contains(fl.Types, "InputFile") {
			return fmt.Errorf("parameter %s: a file where none is taken", name)
		}
	}
	for name, v := range form {
		fl, ok := known[name]
		if !ok {
			return fmt.Errorf("unknown parameter %s", name)
		}
		if err := f.checkParam(fl.Types, v); err != nil {
			return fmt.Errorf("parameter %s: %w", name, err)
		}
	}
	return nil
}

// checkParam checks a form value against the field's types: scalars as text,
// objects and arrays as JSON.
func (f *fakeTelegram) checkParam(types []string, v string) error {
	var errs []error
	for _, typ := range types {
		var err error
		switch typ {
		case "String":
			return nil
		case "Integer":
			_, err = strconv.ParseInt(v, 10, 64)
		case "Float":
			_, err = strconv.ParseFloat(v, 64)
		case "Boolean":
			if v != "true" && v != "false" {
				err = fmt.Errorf("%q is not a Boolean", v)
			}
		case "InputFile":
			err = errors.New("a file must be uploaded as a multipart part with a file name")
		default:
			var val any
			if err = json.Unmarshal([]byte(v), &val); err == nil {
				err = f.checkValue(typ, val)
			}
		}
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil
	}
	return errors.Join(errs...)
}

// checkValue checks a decoded JSON value against a Bot API type.
func (f *fakeTelegram) checkValue(typ string, v any) error {
	if elem, ok := strings.CutPrefix(typ, "Array of "); ok {
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("want %s", typ)
		}
		for i, e := range arr {
			if err := f.checkValue(elem, e); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return nil
	}
	switch typ {
	case "String":
		if _, ok := v.(string); !ok {
			return fmt.Errorf("want String, got %v", v)
		}
		return nil
	case "Integer":
		n, ok := v.(float64)
		if !ok || n != float64(int64(n)) {
			return fmt.Errorf("want Integer, got %v", v)
		}
		return nil
	case "Boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("want Boolean, got %v", v)
		}
		return nil
	}
	t, ok := f.spec.Types[typ]
	if !ok {
		return fmt.Errorf("type %s is outside what the fake knows", typ)
	}
	if len(t.Subtypes) > 0 {
		var errs []error
		for _, sub := range t.Subtypes {
			err := f.checkValue(sub, v)
			if err == nil {
				return nil
			}
			errs = append(errs, err)
		}
		return fmt.Errorf("no %s fits: %w", typ, errors.Join(errs...))
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("want %s object", typ)
	}
	known := map[string]specField{}
	for _, fl := range t.Fields {
		known[fl.Name] = fl
		if _, ok := obj[fl.Name]; fl.Required && !ok {
			return fmt.Errorf("%s: field %s is required", typ, fl.Name)
		}
	}
	for name, fv := range obj {
		fl, ok := known[name]
		if !ok {
			return fmt.Errorf("%s: unknown field %s", typ, name)
		}
		if fl.MustBe != "" && fv != fl.MustBe {
			return fmt.Errorf("%s: type %v, want %s", typ, fv, fl.MustBe)
		}
		var errs []error
		for _, ft := range fl.Types {
			err := f.checkValue(ft, fv)
			if err == nil {
				errs = nil
				break
			}
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			return fmt.Errorf("%s.%s: %w", typ, name, errors.Join(errs...))
		}
	}
	return nil
}

var fakeCommandPattern = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

// checkMethod applies the limits the Bot API documents in prose.
func (f *fakeTelegram) checkMethod(method string, form map[string]string, uploads map[string]fakeUpload) error {
	switch method {
	case "sendPhoto", "sendDocument", "sendVideo", "copyMessage":
		return f.checkMediaMethod(method, form, uploads)
	case "sendMessage", "editMessageText":
		text := form["text"]
		if pm := form["parse_mode"]; pm != "" {
			if pm != "HTML" {
				return fmt.Errorf("parse mode %q: this bot uses HTML", pm)
			}
			plain, err := parseTelegramHTML(text)
			if err != nil {
				return fmt.Errorf("can't parse entities: %w", err)
			}
			text = plain
		}
		if strings.TrimSpace(text) == "" {
			return errors.New("message text is empty")
		}
		if utf16Len(text) > 4096 {
			return errors.New("message is too long")
		}
		if rm, ok := form["reply_markup"]; ok {
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
		}
	case "setMyCommands":
		var cmds []struct{ Command, Description string }
		if err := json.Unmarshal([]byte(form["commands"]), &cmds); err != nil {
			return err
		}
		if len(cmds) > 100 {
			return errors.New("too many commands")
		}
		for _, c := range cmds {
			if !fakeCommandPattern.MatchString(c.Command) {
				return fmt.Errorf("BOT_COMMAND_INVALID: %q", c.Command)
			}
			if n := len([]rune(c.Description)); n < 1 || n > 256 {
				return fmt.Errorf("BOT_COMMAND_DESCRIPTION_INVALID: %q", c.Description)
			}
		}
		if lc := form["language_code"]; lc != "" && !regexp.MustCompile(`^[a-z]{2}$`).MatchString(lc) {
			return fmt.Errorf("language code %q", lc)
		}
	case "setWebhook":
		u, err := url.Parse(form["url"])
		if err != nil || u.Scheme != "https" {
			return errors.New("bad webhook: an HTTPS URL must be provided for webhook")
		}
		if s, ok := form["secret_token"]; ok && !regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`).MatchString(s) {
			return errors.New("secret token contains unallowed characters")
		}
	case "getUpdates":
		if l, ok := form["limit"]; ok {
			if n, _ := strconv.Atoi(l); n < 1 || n > 100 {
				return fmt.Errorf("limit %s", l)
			}
		}
	}
	return nil
}

// checkInlineButton applies the rules of InlineKeyboardButton: exactly one
// action field, callback_data of 1-64 bytes, copy_text of 1-256 characters.
func checkInlineButton(b map[string]any) error {
	var actions []string
	for k := range b {
		if k != "text" && k != "icon_custom_emoji_id" && k != "style" {
			actions = append(actions, k)
		}
	}
	if len(actions) != 1 {
		return fmt.Errorf("BUTTON_TYPE_INVALID: actions %v", actions)
	}
	if ct, ok := b["copy_text"].(map[string]any); ok {
		if text, _ := ct["text"].(string); text == "" || len([]rune(text)) > 256 {
			return errors.New("BUTTON_COPY_TEXT_INVALID")
		}
	}
	if data, ok := b["callback_data"]; ok {
		if s, _ := data.(string); s == "" || len(s) > 64 {
			return errors.New("BUTTON_DATA_INVALID")
		}
	}
	return nil
}

// simulate answers a valid request the way Telegram would.
func (f *fakeTelegram) simulate(w http.ResponseWriter, r *http.Request, method string, form map[string]string, uploads map[string]fakeUpload) {
	switch method {
	case "getMe":
		writeResult(w, map[string]any{"id": 42, "is_bot": true, "first_name": "Mobilise", "username": testUsername})
	case "sendMessage":
		f.mu.Lock()
		blocked := f.forbidden[form["chat_id"]]
		f.nextMsgID++
		id := f.nextMsgID
		if !blocked {
			if f.sent[form["chat_id"]] == nil {
				f.sent[form["chat_id"]] = map[int]string{}
			}
			f.sent[form["chat_id"]][id] = form["text"]
		}
		f.mu.Unlock()
		if blocked {
			writeError(w, 403, "Forbidden: bot was blocked by the user")
			return
		}
		chatID, _ := strconv.ParseInt(form["chat_id"], 10, 64)
		writeResult(w, map[string]any{
			"message_id": id, "date": time.Now().Unix(),
			"chat": map[string]any{"id": chatID, "type": "private"}, "text": form["text"],
		})
	case "editMessageText":
		chatID, _ := strconv.ParseInt(form["chat_id"], 10, 64)
		msgID, _ := strconv.Atoi(form["message_id"])
		f.mu.Lock()
		old, ok := f.sent[form["chat_id"]][msgID]
		if ok && old != form["text"] {
			f.sent[form["chat_id"]][msgID] = form["text"]
		}
		f.mu.Unlock()
		switch {
		case !ok:
			writeError(w, 400, "Bad Request: message to edit not found")
			return
		case old == form["text"]:
			writeError(w, 400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
			return
		}
		writeResult(w, map[string]any{
			"message_id": msgID, "date": time.Now().Unix(),
			"chat": map[string]any{"id": chatID, "type": "private"}, "text": form["text"],
		})
	case "sendPhoto", "sendDocument", "sendVideo", "copyMessage":
		f.sendMedia(w, method, form, uploads)
	case "getFile":
		f.getFile(w, form)
	case "getUpdates":
		f.getUpdates(w, r, form)
	case "setWebhook":
		f.mu.Lock()
		f.webhook = form["url"]
		f.mu.Unlock()
		writeResult(w, true)
	case "deleteWebhook":
		f.mu.Lock()
		f.webhook = ""
		f.mu.Unlock()
		writeResult(w, true)
	default:
		writeResult(w, true)
	}
}

func (f *fakeTelegram) getUpdates(w http.ResponseWriter, r *http.Request, form map[string]string) {
	offset, _ := strconv.ParseInt(form["offset"], 10, 64)
	limit := 100
	if l, ok := form["limit"]; ok {
		limit, _ = strconv.Atoi(l)
	}
	timeout, _ := strconv.Atoi(form["timeout"])
	deadline := time.NewTimer(time.Duration(timeout) * time.Second)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		if f.webhook != "" {
			f.mu.Unlock()
			writeError(w, 409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
			return
		}
		// an offset confirms every update below it: Telegram forgets them
		if offset > 0 {
			f.updates = slices.DeleteFunc(f.updates, func(u queuedUpdate) bool { return u.id < offset })
		}
		var batch []json.RawMessage
		var ids []int64
		for _, u := range f.updates[:min(limit, len(f.updates))] {
			batch = append(batch, u.raw)
			ids = append(ids, u.id)
		}
		arrived := f.arrived
		if len(batch) == 0 {
			f.polling++
		}
		f.mu.Unlock()
		if len(batch) > 0 {
			writeResult(w, batch)
			f.served(ids)
			return
		}
		select {
		case <-arrived:
			f.parked(-1)
		case <-deadline.C:
			f.parked(-1)
			writeResult(w, []any{})
			return
		case <-r.Context().Done():
			f.parked(-1)
			return
		}
	}
}

// served notes when updates were first handed out.
func (f *fakeTelegram) served(ids []int64) {
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		if _, ok := f.servedAt[id]; !ok {
			f.servedAt[id] = now
		}
	}
}

// parked adds n to the getUpdates calls waiting for an update.
func (f *fakeTelegram) parked(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.polling += n
}

// telegramTags are the tags Telegram's HTML parse mode knows.
var telegramTags = map[string]bool{
	"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true, "s": true, "strike": true,
	"del": true, "span": true, "tg-spoiler": true, "a": true, "tg-emoji": true, "code": true, "pre": true,
	"blockquote": true,
}

var entityPattern = regexp.MustCompile(`^&(lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);`)

// parseTelegramHTML checks text the way Telegram's HTML parse mode reads it
// (stricter: a bare > is refused too) and returns the text it shows.
func parseTelegramHTML(s string) (string, error) {
	var out strings.Builder
	var open []string
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return "", fmt.Errorf("unclosed start tag at byte offset %d", i)
			}
			tag := s[i+1 : i+end]
			if name, ok := strings.CutPrefix(tag, "/"); ok {
				if len(open) == 0 || open[len(open)-1] != name {
					return "", fmt.Errorf("unmatched end tag %q at byte offset %d", name, i)
				}
				open = open[:len(open)-1]
			} else {
				name, _, _ := strings.Cut(tag, " ")
				if !telegramTags[name] {
					return "", fmt.Errorf("unsupported start tag %q at byte offset %d", name, i)
				}
				open = append(open, name)
			}
			i += end + 1
		case '>':
			return "", fmt.Errorf("bare > at byte offset %d", i)
		case '&':
			m := entityPattern.FindString(s[i:])
			if m == "" {
				return "", fmt.Errorf("bare & at byte offset %d", i)
			}
			switch m {
			case "&lt;":
				out.WriteByte('<')
			case "&gt;":
				out.WriteByte('>')
			case "&amp;":
				out.WriteByte('&')
			case "&quot;":
				out.WriteByte('"')
			default:
				num := strings.TrimSuffix(strings.TrimPrefix(m, "&#"), ";")
				base := 10
				if rest, ok := strings.CutPrefix(num, "x"); ok {
					num, base = rest, 16
				}
				n, _ := strconv.ParseInt(num, base, 32)
				out.WriteRune(rune(n))
			}
			i += len(m)
		default:
			out.WriteByte(s[i])
			i++
		}
	}
	if len(open) > 0 {
		return "", fmt.Errorf("unclosed tags %v", open)
	}
	return out.String(), nil
}

// fakeState is an in-memory State. dead simulates a crashed process: every
// call fails, and what was stored before stays for the next run.
type fakeState struct {
	mu          sync.Mutex
	offset      int64
	handled     map[int64]bool
	offsets     []int64
	dead        bool
	onSetOffset func(offset int64)
	// failMarkOnce makes the next claim of an update fail, once
	failMarkOnce map[int64]error
}

func newFakeState() *fakeState {
	return &fakeState{handled: map[int64]bool{}, failMarkOnce: map[int64]error{}}
}

var errCrashed = errors.New("process crashed")

func (s *fakeState) TelegramOffset(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead {
		return 0, errCrashed
	}
	return s.offset, nil
}

func (s *fakeState) SetTelegramOffset(_ context.Context, offset int64) error {
	s.mu.Lock()
	hook := s.onSetOffset
	s.mu.Unlock()
	if hook != nil {
		hook(offset)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead {
		return errCrashed
	}
	s.offset = offset
	s.offsets = append(s.offsets, offset)
	return nil
}

// MarkUpdateHandled records an update as handled, as the engine does in the
// unit of work that handles it, and reports whether it was new.
func (s *fakeState) MarkUpdateHandled(channel string, id int64) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if channel != "telegram" {
		return false, fmt.Errorf("channel %q", channel)
	}
	if s.dead {
		return false, errCrashed
	}
	if err := s.failMarkOnce[id]; err != nil {
		delete(s.failMarkOnce, id)
		return false, err
	}
	if s.handled[id] {
		return false, nil
	}
	s.handled[id] = true
	return true, nil
}

func (s *fakeState) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dead = true
}

// revive starts the next process on what the crashed one left stored.
func (s *fakeState) revive() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dead = false
	s.onSetOffset = nil
}

// fakeClock is the channel's clock in tests: sleeping advances it at once.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (fc *fakeClock) Now() time.Time {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.now
}

func (fc *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.now = fc.now.Add(d)
	fc.slept = append(fc.slept, d)
	return nil
}

func (fc *fakeClock) Slept() []time.Duration {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return slices.Clone(fc.slept)
}

// syncBuffer collects log output written from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testChannel is a Channel on a fake server, with a fake clock, and a check
// at the end that its logs never showed the token.
type testChannel struct {
	*Channel
	clock *fakeClock
	logs  *syncBuffer
}

func newTestChannel(t testing.TB, f *fakeTelegram, opts ...Option) *testChannel {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := New(testToken, append([]Option{WithServerURL(f.URL), WithLogger(log), WithPollTimeout(time.Second)}, opts...)...)
	require.NoError(t, err)
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c.now, c.sleep = clock.Now, clock.Sleep
	t.Cleanup(func() {
		assert.NotContains(t, logs.String(), testToken, "token in the logs")
		assert.NotContains(t, logs.String(), "AAH-secret", "token in the logs")
	})
	return &testChannel{Channel: c, clock: clock, logs: logs}
}

// TestFakeIsStrict checks that the fake refuses what Telegram refuses, so the
// other tests passing means something.
func TestFakeIsStrict(t *testing.T) {
	f := newFake(t)
	f.lenient = true
	post := func(method string, form url.Values) (int, string) {
		resp, err := http.PostForm(f.URL+"/bot"+testToken+"/"+method, form)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(body)
	}
	cases := []struct {
		label    string
		method   string
		form     url.Values
		wantCode int
		wantDesc string
	}{
		{"unknown method", "sendMessages", url.Values{}, 404, "Not Found"},
		{"missing required", "sendMessage", url.Values{"chat_id": {"1"}}, 400, "parameter text is required"},
		{"unknown parameter", "sendMessage", url.Values{"chat_id": {"1"}, "text": {"x"}, "colour": {"red"}}, 400, "unknown parameter colour"},
		{"bad integer", "getUpdates", url.Values{"offset": {"soon"}}, 400, "parameter offset"},
		{"text too long", "sendMessage", url.Values{"chat_id": {"1"}, "text": {strings.Repeat("ب", 4097)}}, 400, "message is too long"},
		{"bare ampersand", "sendMessage", url.Values{"chat_id": {"1"}, "text": {"Peace & Unity"}, "parse_mode": {"HTML"}}, 400, "bare &"},
		{"unknown tag", "sendMessage", url.Values{"chat_id": {"1"}, "text": {"<h1>x</h1>"}, "parse_mode": {"HTML"}}, 400, "unsupported start tag"},
		{"unbalanced tag", "sendMessage", url.Values{"chat_id": {"1"}, "text": {"<b>x"}, "parse_mode": {"HTML"}}, 400, "unclosed tags"},
		{"long callback data", "sendMessage", url.Values{"chat_id": {"1"}, "text": {"x"}, "reply_markup": {`{"inline_keyboard":[[{"text":"a","callback_data":"` + strings.Repeat("x", 65) + `"}]]}`}}, 400, "BUTTON_DATA_INVALID"},
		{"unknown button field", "sendMessage", url.Values{"chat_id": {"1"}, "text": {"x"}, "reply_markup": {`{"inline_keyboard":[[{"text":"a","callback_data":"p","colour":"red"}]]}`}}, 400, "unknown field colour"},
		{"empty copy_text", "sendMessage", url.Values{"chat_id": {"1"}, "text": {"x"}, "reply_markup": {`{"inline_keyboard":[[{"text":"a","callback_data":"p","copy_text":{"text":""}}]]}`}}, 400, "BUTTON_TYPE_INVALID"},
		{"bad command", "setMyCommands", url.Values{"commands": {`[{"command":"Start!","description":"x"}]`}}, 400, "BOT_COMMAND_INVALID"},
		{"bad scope", "setMyCommands", url.Values{"commands": {`[]`}, "scope": {`{"type":"chat"}`}}, 400, "no BotCommandScope fits"},
		{"wrong token", "getMe", nil, 401, "Unauthorized"},
		{"escaped HTML", "sendMessage", url.Values{"chat_id": {"1"}, "text": {"&lt;b&gt;Peace &amp; &quot;Unity&quot;&lt;/b&gt;"}, "parse_mode": {"HTML"}}, 200, `"text":"&lt;b&gt;Peace &amp; &quot;Unity&quot;&lt;/b&gt;"`},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			if tc.label == "wrong token" {
				resp, err := http.Post(f.URL+"/bot1:wrong/getMe", "", nil)
				require.NoError(t, err)
				resp.Body.Close()
				assert.Equal(t, tc.wantCode, resp.StatusCode)
				return
			}
			code, body := post(tc.method, tc.form)
			assert.Equal(t, tc.wantCode, code, body)
			assert.Contains(t, body, tc.wantDesc)
		})
	}
}

func TestParseTelegramHTML(t *testing.T) {
	got, err := parseTelegramHTML(`<b>bold</b> &lt;x&gt; &amp; &quot;q&quot; &#1576; <a href="https://t.me/x">link</a>`)
	require.NoError(t, err)
	assert.Equal(t, `bold <x> & "q" ب link`, got)
	for _, bad := range []string{"a < b", "a > b", "AT&T", "<b>x</i>", "</b>", "<script>x</script>", "<b"} {
		_, err := parseTelegramHTML(bad)
		assert.Error(t, err, bad)
	}
}

// mark is MarkUpdateHandled for a recorder.
func (s *fakeState) mark(id string) (bool, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return false, err
	}
	return s.MarkUpdateHandled("telegram", n)
}
