package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mobilise/bot"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/messages"
	"mobilise/store"
)

// result is what one run of the program left behind.
type result struct {
	code           int
	stdout, stderr string
}

// runMain runs the program as main would, with env as the whole environment
// and stdin as its input, and returns its exit code and output.
func runMain(t *testing.T, ctx context.Context, args []string, env map[string]string, stdin string) result {
	t.Helper()
	errFile, err := os.CreateTemp(t.TempDir(), "stderr")
	require.NoError(t, err)
	defer errFile.Close()
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	code := run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, errFile)
	stderr, err := os.ReadFile(errFile.Name())
	require.NoError(t, err)
	return result{code: code, stdout: out.String(), stderr: string(stderr)}
}

func catalog(t *testing.T) *messages.Catalog {
	t.Helper()
	cat, err := messages.New()
	require.NoError(t, err)
	return cat
}

// onboarding is a piped terminal session: a new person picks Arabic, agrees
// to messages and picks Ramallah by its number in Arabic-Indic digits.
const onboarding = "/start\n1\nنعم\n٧\n"

func TestConsoleSession(t *testing.T) {
	cat := catalog(t)
	data := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"MOBILISE_DATA": data}

	res := runMain(t, context.Background(), nil, env, onboarding)
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "> /start\n", "a piped session echoes what was typed")
	assert.Contains(t, res.stdout, "< "+strings.SplitN(cat.Text("ar", messages.StartGreeting, nil), "\n", 2)[0])
	assert.Contains(t, res.stdout, "< "+cat.Text("ar", messages.StartReady, nil))
	assert.Contains(t, res.stdout, "<   ١. "+cat.Text("ar", messages.MenuCampaigns, nil), "the main menu, numbered in the digits of its language")
	assert.Empty(t, res.stderr, "no routine logs in the terminal chat")
	assert.FileExists(t, filepath.Join(data, "mobilise.db"))

	// the next run goes on with the same data
	res = runMain(t, context.Background(), nil, env, "/start\n")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, cat.Text("ar", messages.StartWelcomeBack, map[string]any{"Name": messages.Isolate("user")}))
	assert.NotContains(t, res.stdout, cat.Text("ar", messages.StartConsent, nil), "no second onboarding")
}

func TestHelp(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	res := runMain(t, context.Background(), []string{"--help"}, map[string]string{"MOBILISE_DATA": data}, "")
	assert.Equal(t, 0, res.code)
	for _, want := range []string{
		"-data", "-admins", "-telegram-token", "-telegram-api-url", "-telegram-webhook", "-log-level", "-console", "-whatsapp",
		"MOBILISE_DATA", "MOBILISE_ADMINS", "MOBILISE_LOG_LEVEL", "MOBILISE_TZ", "TELEGRAM_TOKEN",
		"mobilise backup", "mobilise whatsapp",
	} {
		assert.Contains(t, res.stderr, want)
	}
	assert.NoDirExists(t, data, "--help touches nothing")
}

func TestBadConfiguration(t *testing.T) {
	cases := []struct {
		label string
		args  []string
		env   map[string]string
		want  string
	}{
		{label: "unknown flag", args: []string{"--nope"}, want: "flag provided but not defined: -nope"},
		{label: "admin without channel", env: map[string]string{"MOBILISE_ADMINS": "telegram:1,alice"}, want: `admin "alice": want channel:id`},
		{label: "admin flag without id", args: []string{"--admins", "telegram:"}, want: `admin "telegram:": want channel:id`},
		{label: "log level", env: map[string]string{"MOBILISE_LOG_LEVEL": "loud"}, want: "MOBILISE_LOG_LEVEL"},
		{label: "time zone", args: []string{"--tz", "Mars/Olympus"}, want: `time zone "Mars/Olympus"`},
		{label: "unknown command", args: []string{"frobnicate"}, want: `unknown command "frobnicate"`},
		{label: "flood limit", args: []string{"--flood-every", "0s"}, want: "flood limits must be positive"},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			env := map[string]string{"MOBILISE_DATA": data}
			for k, v := range tc.env {
				env[k] = v
			}
			res := runMain(t, context.Background(), tc.args, env, "/start\n")
			assert.Equal(t, 2, res.code)
			assert.Contains(t, res.stderr, tc.want)
			assert.Empty(t, res.stdout, "the bot did not run")
			assert.NoDirExists(t, data, "nothing is created with a bad configuration")
		})
	}
}

// fakeBotAPI answers every Bot API call the way Telegram answers a token it
// does not know, or, with ok set, the calls the bot makes at start; it
// records the methods called.
type fakeBotAPI struct {
	*httptest.Server
	ok      bool
	mu      sync.Mutex
	methods []string
	polling chan struct{}
	once    sync.Once
}

func newFakeBotAPI(t *testing.T, ok bool) *fakeBotAPI {
	f := &fakeBotAPI{ok: ok, polling: make(chan struct{})}
	f.Server = httptest.NewServer(f)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeBotAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	f.mu.Lock()
	f.methods = append(f.methods, method)
	f.mu.Unlock()
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	if !f.ok {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
		return
	}
	switch method {
	case "getMe":
		io.WriteString(w, `{"ok":true,"result":{"id":42,"is_bot":true,"first_name":"Mobilise","username":"mobilise_test_bot"}}`)
	case "getUpdates":
		f.once.Do(func() { close(f.polling) })
		// a long poll with nothing to deliver, until the bot hangs up
		<-r.Context().Done()
	default:
		io.WriteString(w, `{"ok":true,"result":true}`)
	}
}

func (f *fakeBotAPI) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.methods...)
}

const badToken = "123456:AAH-not-the-right-token"

func TestWrongTelegramToken(t *testing.T) {
	api := newFakeBotAPI(t, false)
	env := map[string]string{
		"MOBILISE_DATA":    filepath.Join(t.TempDir(), "data"),
		"TELEGRAM_TOKEN":   badToken,
		"TELEGRAM_API_URL": api.URL,
	}
	res := runMain(t, context.Background(), nil, env, "")
	assert.Equal(t, 1, res.code)
	lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
	require.Len(t, lines, 1, "one clear line, not a stack of retries: %q", res.stderr)
	assert.Contains(t, lines[0], "token")
	assert.Contains(t, lines[0], "401")
	assert.NotContains(t, res.stderr, badToken)
	assert.NotContains(t, res.stderr, "AAH-not")
	assert.Equal(t, []string{"getMe"}, api.calls(), "no retry of a rejected token")
}

func TestTelegramRunsUntilStopped(t *testing.T) {
	api := newFakeBotAPI(t, true)
	data := filepath.Join(t.TempDir(), "data")
	env := map[string]string{
		"MOBILISE_DATA":    data,
		"TELEGRAM_TOKEN":   badToken,
		"TELEGRAM_API_URL": api.URL,
		"MOBILISE_ADMINS":  "telegram:900",
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() { done <- runMain(t, ctx, nil, env, "") }()
	select {
	case <-api.polling:
	case <-time.After(20 * time.Second):
		t.Fatal("the bot never polled for updates")
	}
	cancel() // as SIGTERM does
	var res result
	select {
	case res = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the bot did not stop")
	}
	assert.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stderr, "telegram bot ready")
	assert.Contains(t, res.stderr, "mobilise_test_bot")
	assert.NotContains(t, res.stderr, badToken)
	calls := api.calls()
	assert.Equal(t, "getMe", calls[0])
	assert.Contains(t, calls, "setMyCommands")
	assert.Contains(t, calls, "getUpdates")

	// the database was closed cleanly: it opens at once
	st, err := store.Open(filepath.Join(data, "mobilise.db"))
	require.NoError(t, err)
	require.NoError(t, st.Close())
}

func TestBackup(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"MOBILISE_DATA": data}
	res := runMain(t, context.Background(), nil, env, onboarding)
	require.Equal(t, 0, res.code, res.stderr)

	file := filepath.Join(t.TempDir(), "backup.db")
	res = runMain(t, context.Background(), []string{"backup", file}, env, "")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "backup written to "+file)

	st, err := store.Open(file)
	require.NoError(t, err)
	defer st.Close()
	c, err := st.ContactByAddress(context.Background(), bot.MustParseAddress("console:user"))
	require.NoError(t, err)
	assert.True(t, c.Consent)
	assert.Equal(t, "ramallah", c.Governorate)
	assert.Equal(t, "ar", c.Lang)
	require.NoError(t, st.Check())

	res = runMain(t, context.Background(), []string{"backup", file, "second"}, env, "")
	assert.Equal(t, 2, res.code, "two files named")
	assert.Contains(t, res.stderr, "Usage: mobilise backup")
}

func TestWhatsAppStatusWithoutANumber(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	res := runMain(t, context.Background(), []string{"whatsapp", "status"}, map[string]string{"MOBILISE_DATA": data}, "")
	assert.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "no WhatsApp number is linked")
	assert.Contains(t, res.stdout, "mobilise whatsapp link")
	_, err := os.Stat(filepath.Join(data, "whatsapp.db"))
	assert.True(t, os.IsNotExist(err), "asking makes no session file")

	res = runMain(t, context.Background(), []string{"whatsapp", "dance"}, map[string]string{"MOBILISE_DATA": data}, "")
	assert.Equal(t, 2, res.code, "an unknown verb")
	assert.Contains(t, res.stderr, "Usage: mobilise whatsapp")
}

// TestConsoleAfterWhatsAppStatus checks that asking for the WhatsApp status
// leaves the bot in the terminal chat.
func TestConsoleAfterWhatsAppStatus(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"MOBILISE_DATA": data}
	res := runMain(t, context.Background(), []string{"whatsapp", "status"}, env, "")
	require.Equal(t, 0, res.code, res.stderr)
	res = runMain(t, context.Background(), nil, env, onboarding)
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, fmt.Sprintf("< %s", catalog(t).Text("ar", messages.StartReady, nil)))
}
