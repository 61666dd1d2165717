package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/store"
)

// opsBotAPI is a Bot API that delivers one update on the first getUpdates,
// then long-polls empty, and accepts everything else; replied is closed at
// the first sendMessage.
type opsBotAPI struct {
	*httptest.Server
	update  string
	mu      sync.Mutex
	served  bool
	replied chan struct{}
	once    sync.Once
}

func newOpsBotAPI(t *testing.T, update string) *opsBotAPI {
	f := &opsBotAPI{update: update, replied: make(chan struct{})}
	f.Server = httptest.NewServer(f)
	t.Cleanup(f.Close)
	return f
}

func (f *opsBotAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	switch method {
	case "getMe":
		io.WriteString(w, `{"ok":true,"result":{"id":42,"is_bot":true,"first_name":"Mobilise","username":"mobilise_test_bot"}}`)
	case "getUpdates":
		f.mu.Lock()
		first := !f.served
		f.served = true
		f.mu.Unlock()
		if first {
			io.WriteString(w, `{"ok":true,"result":[`+f.update+`]}`)
			return
		}
		<-r.Context().Done()
	case "sendMessage":
		f.once.Do(func() { close(f.replied) })
		io.WriteString(w, `{"ok":true,"result":{"message_id":7,"date":1767225600,"chat":{"id":4242,"type":"private"},"text":"x"}}`)
	default:
		io.WriteString(w, `{"ok":true,"result":true}`)
	}
}

// TestLogsKeepPrivateDataOut runs a full session through run() — a person
// onboarding and registering an institution in the terminal chat, and a
// message arriving on Telegram — at the level a deployed bot logs at, and
// checks that no phone number, message text or token reaches the log.
func TestLogsKeepPrivateDataOut(t *testing.T) {
	const (
		token        = "987654:AAG-log-privacy-secret_token"
		phone        = "0599123456"
		tgPhone      = "0568765432"
		instName     = "مركز السلام للوساطة المجتمعية"
		contactName  = "سمر خليل الفرا"
		telegramText = "أريد التطوع في حملتكم رقمي"
	)
	update, err := json.Marshal(map[string]any{
		"update_id": 1,
		"message": map[string]any{
			"message_id": 5, "date": 1767225600, "text": telegramText + " " + tgPhone,
			"chat": map[string]any{"id": 4242, "type": "private"},
			"from": map[string]any{"id": 4242, "is_bot": false, "first_name": "Rami", "language_code": "ar"},
		},
	})
	require.NoError(t, err)

	for _, level := range []string{"", "info"} {
		t.Run("level "+level, func(t *testing.T) {
			api := newOpsBotAPI(t, string(update))
			data := filepath.Join(t.TempDir(), "data")
			env := map[string]string{
				"MOBILISE_DATA":    data,
				"MOBILISE_ADMINS":  "console:admin",
				"TELEGRAM_TOKEN":   token,
				"TELEGRAM_API_URL": api.URL,
			}
			if level != "" {
				env["MOBILISE_LOG_LEVEL"] = level
			}
			script := onboardingScript + "/register\n" + instName + "\nتخطي\n1\n1\nانتهيت\n" + contactName + "\n" + phone + "\n1\n"
			stdinR, stdinW := io.Pipe()
			errFile, err := os.CreateTemp(t.TempDir(), "stderr")
			require.NoError(t, err)
			defer errFile.Close()
			var stdout bytes.Buffer
			done := make(chan int, 1)
			go func() {
				done <- run(t.Context(), []string{"--console"}, func(k string) string { return env[k] }, stdinR, &stdout, errFile)
			}()
			_, err = io.WriteString(stdinW, script)
			require.NoError(t, err)
			select {
			case <-api.replied: // the Telegram message was answered
			case <-time.After(20 * time.Second):
				t.Fatal("the Telegram message was never answered")
			}
			require.NoError(t, stdinW.Close()) // the end of input ends the terminal chat
			select {
			case code := <-done:
				require.Equal(t, 0, code)
			case <-time.After(20 * time.Second):
				t.Fatal("the bot did not stop at the end of input")
			}
			logBytes, err := os.ReadFile(errFile.Name())
			require.NoError(t, err)
			logs := string(logBytes)

			// the private data was in play: typed, stored and answered
			assert.Contains(t, stdout.String(), "> "+phone)
			st, err := store.Open(filepath.Join(data, dbFileName))
			require.NoError(t, err)
			insts, err := st.Institutions(context.Background(), "")
			require.NoError(t, st.Close())
			require.NoError(t, err)
			require.Len(t, insts, 1, "the scenario registers an institution; transcript:\n%s", stdout.String())
			assert.Equal(t, phone, insts[0].Phone)
			if level == "info" {
				assert.Contains(t, logs, "telegram bot ready", "the log is written at info")
			}

			for _, secret := range []string{
				token, "AAG-log-privacy", phone, "599123456", "599 123 456", tgPhone, "568765432",
				instName, contactName, telegramText, "أريد التطوع", "Rami",
			} {
				assert.NotContains(t, logs, secret)
			}
		})
	}
}

// onboardingScript is a person starting in Arabic, consenting and picking Ramallah.
const onboardingScript = "/start\n1\nنعم\n٧\n"
