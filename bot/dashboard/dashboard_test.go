package dashboard_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"mobilise/bot"
	"mobilise/bot/bottest"
	"mobilise/bot/coalition"
	"mobilise/bot/dashboard"
	"mobilise/bot/telegram"
	"mobilise/store"
)

// fakeBotAPI is a small Telegram Bot API over real HTTP: it answers
// sendMessage and editMessageText and keeps what was sent, per chat.
type fakeBotAPI struct {
	*httptest.Server
	mu   sync.Mutex
	next int
	sent map[string][]string // chat_id → texts
}

func newFakeBotAPI(t testing.TB) *fakeBotAPI {
	f := &fakeBotAPI{sent: map[string][]string{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeBotAPI) serve(w http.ResponseWriter, r *http.Request) {
	method := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	form := map[string]string{}
	if mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			b, _ := io.ReadAll(p)
			form[p.FormName()] = string(b)
		}
	} else if err := r.ParseForm(); err == nil {
		for k := range r.Form {
			form[k] = r.Form.Get(k)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	switch method {
	case "sendMessage", "editMessageText", "sendPhoto", "sendDocument", "sendVideo":
		f.mu.Lock()
		f.next++
		id := f.next
		switch method {
		case "sendMessage":
			f.sent[form["chat_id"]] = append(f.sent[form["chat_id"]], form["text"])
		case "sendPhoto", "sendDocument", "sendVideo":
			// a file is recorded by its method, before its caption
			f.sent[form["chat_id"]] = append(f.sent[form["chat_id"]], method+": "+form["caption"])
		}
		f.mu.Unlock()
		chat, _ := strconv.ParseInt(form["chat_id"], 10, 64)
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": map[string]any{
			"message_id": id, "date": time.Now().Unix(), "chat": map[string]any{"id": chat, "type": "private"}, "text": form["text"]}})
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"ok":false,"error_code":404,"description":"Not Found"}`)
	}
}

// texts returns what chat received.
func (f *fakeBotAPI) texts(chat string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sent[chat]...)
}

// world is the whole bot behind the dashboard, sending to the fake Bot API.
type world struct {
	st    *store.Store
	stack *bottest.Stack
	api   *fakeBotAPI
	srv   *httptest.Server
}

// The people of the tests, by Telegram chat ID.
const (
	adminA   = "101"
	adminB   = "102"
	coord    = "201"
	coord2   = "202"
	citizen1 = "301"
)

func newWorld(t testing.TB, threshold int, more ...func(*bottest.Config)) *world {
	t.Helper()
	w := &world{api: newFakeBotAPI(t)}
	var err error
	w.st, err = store.Open(filepath.Join(t.TempDir(), "mobilise.db"), store.WithBatchDelay(time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.st.Close() })
	tg, err := telegram.New("123:test", telegram.WithServerURL(w.api.URL))
	require.NoError(t, err)
	// the dashboard's own address is known once its server listens
	w.srv = httptest.NewUnstartedServer(nil)
	base := "http://" + w.srv.Listener.Addr().String()
	cfg := bottest.Config{
		Admins: []bot.Address{tgAddr(adminA), tgAddr(adminB)}, Threshold: threshold,
		Coalition: []coalition.Option{coalition.WithDashboard(base + dashboard.LoginPath)},
	}
	for _, m := range more {
		m(&cfg)
	}
	w.stack = bottest.New(t, w.st, []bot.Sender{tg}, cfg)
	d, err := dashboard.New(dashboard.Config{Co: w.stack.Co, Cat: w.stack.Cat, Loc: w.stack.Loc, Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Health: func() []dashboard.Health { return []dashboard.Health{{Channel: bot.Telegram, Connected: true}} }})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle(dashboard.Prefix+"/", d.Handler())
	w.srv.Config.Handler = mux
	w.srv.Start()
	t.Cleanup(w.srv.Close)
	w.stack.Start(t)
	return w
}

func tgAddr(id string) bot.Address { return bot.Address{Channel: bot.Telegram, ID: id} }

// say has the person at chat send text to the bot, as Telegram would deliver it.
func (w *world) say(t testing.TB, chat, name, lang, text string) {
	t.Helper()
	w.stack.Send(t, bot.Incoming{From: tgAddr(chat), Name: name, LangHint: lang, Text: text,
		ExternalID: fmt.Sprintf("%s-%d", chat, time.Now().UnixNano()), ReceivedAt: time.Now()})
}

// person makes someone known to the bot, onboarded and agreeing to messages, in governorate gov.
func (w *world) person(t testing.TB, chat, name, lang, gov string) *store.Contact {
	t.Helper()
	ctx := context.Background()
	c, _, err := w.st.EnsureContact(ctx, tgAddr(chat), name, lang)
	require.NoError(t, err)
	c, err = w.st.UpdateContact(ctx, c.ID, func(c *store.Contact) error {
		c.Consent, c.ConsentAt, c.OnboardedAt, c.Governorate = true, time.Now(), time.Now(), gov
		return nil
	})
	require.NoError(t, err)
	return c
}

// loginLink asks the bot for a sign-in link from chat and returns it, as
// the person reads it in the bot's reply.
func (w *world) loginLink(t testing.TB, chat string) string {
	t.Helper()
	before := len(w.api.texts(chat))
	w.say(t, chat, "", "", "/dashboard")
	texts := w.api.texts(chat)
	require.Greater(t, len(texts), before, "the bot answered /dashboard")
	for _, text := range texts[before:] {
		for _, f := range strings.Fields(text) {
			f = strings.Trim(f, "\u2068\u2069")
			if strings.Contains(f, dashboard.LoginPath+"?t=") {
				u, err := url.Parse(f)
				require.NoError(t, err)
				return u.String()
			}
		}
	}
	t.Fatalf("no link in the bot's reply: %q", texts[before:])
	return ""
}

func strconvFormat(v uint64) string { return strconv.FormatUint(v, 10) }

// put writes a JSON record under one or two big-endian IDs, as the store keys them (bulk fills only).
func put(bk *bbolt.Bucket, a, b uint64, v any) error {
	key := binary.BigEndian.AppendUint64(nil, a)
	if b != 0 {
		key = binary.BigEndian.AppendUint64(key, b)
	}
	buf, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return bk.Put(key, buf)
}
