package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/store"
)

const absent = "<absent>"

var to = bot.Address{Channel: "telegram", ID: "12345"}

func sent(id int) string {
	return fmt.Sprintf(`{"ok":true,"result":{"message_id":%d,"date":1767225600,"chat":{"id":12345,"type":"private"},"text":"x"}}`, id)
}

const (
	reply403 = `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`
	reply400 = `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`
	reply500 = `{"ok":false,"error_code":500,"description":"Internal Server Error"}`
	page502  = `<html><body>502 Bad Gateway</body></html>`
)

func reply429(seconds int) string {
	return fmt.Sprintf(`{"ok":false,"error_code":429,"description":"Too Many Requests: retry after %d","parameters":{"retry_after":%d}}`, seconds, seconds)
}

var sendCases = []struct {
	label     string
	msg       bot.Outgoing
	replies   map[string][]string
	forbidden bool
	wantReq   []fakeRequest // listed form fields only; absent means not sent
	wantID    string
	wantErr   error  // errors.Is
	wantText  string // in the error message
	notErr    error  // errors.Is must not hold
	wantWait  time.Duration
	wantSlept []time.Duration
}{
	{
		label:   "plain text",
		msg:     bot.Outgoing{To: to, Text: "أهلاً"},
		replies: map[string][]string{"sendMessage": {sent(133)}},
		wantReq: []fakeRequest{{Method: "sendMessage", Form: map[string]string{"chat_id": "12345", "text": "أهلاً", "parse_mode": "HTML", "reply_markup": absent}}},
		wantID:  "133",
	},
	{
		label:   "markup in the text shows literally",
		msg:     bot.Outgoing{To: to, Text: `<b>Peace & "Unity"</b>`},
		wantReq: []fakeRequest{{Method: "sendMessage", Form: map[string]string{"text": `&lt;b&gt;Peace &amp; "Unity"&lt;/b&gt;`, "parse_mode": "HTML"}}},
		wantID:  "101",
	},
	{
		label: "buttons become an inline keyboard",
		msg: bot.Outgoing{To: to, Text: "Pledge?", Buttons: [][]bot.Button{
			{{Text: "نعم", Payload: "m1:yes"}, {Text: "No & later", Payload: "m1:no"}},
			{{Text: "Back", Payload: "m1:back"}},
		}},
		wantReq: []fakeRequest{{Method: "sendMessage", Form: map[string]string{
			"text":         "Pledge?",
			"reply_markup": `{"inline_keyboard":[[{"text":"نعم","callback_data":"m1:yes"},{"text":"No \u0026 later","callback_data":"m1:no"}],[{"text":"Back","callback_data":"m1:back"}]]}`,
		}}},
		wantID: "101",
	},
	{
		label: "long text is split at a line break, buttons on the last part",
		msg: bot.Outgoing{To: to, Text: strings.Repeat("أ", 3000) + "\n" + strings.Repeat("ب", 3000),
			Buttons: [][]bot.Button{{{Text: "OK", Payload: "ok"}}}},
		wantReq: []fakeRequest{
			{Method: "sendMessage", Form: map[string]string{"text": strings.Repeat("أ", 3000), "reply_markup": absent}},
			{Method: "sendMessage", Form: map[string]string{"text": strings.Repeat("ب", 3000), "reply_markup": `{"inline_keyboard":[[{"text":"OK","callback_data":"ok"}]]}`}},
		},
		wantID: "102",
	},
	{
		label:   "blocked by the user",
		msg:     bot.Outgoing{To: to, Text: "hi"},
		replies: map[string][]string{"sendMessage": {reply403}},
		wantReq: []fakeRequest{{Method: "sendMessage"}},
		wantErr: bot.ErrRecipientGone,
	},
	{
		label:     "blocked chat in the fake",
		msg:       bot.Outgoing{To: to, Text: "hi"},
		forbidden: true,
		wantReq:   []fakeRequest{{Method: "sendMessage"}},
		wantErr:   bot.ErrRecipientGone,
	},
	{
		label:   "bad request is not retried",
		msg:     bot.Outgoing{To: to, Text: "hi"},
		replies: map[string][]string{"sendMessage": {reply400}},
		wantReq: []fakeRequest{{Method: "sendMessage"}},
		wantErr: tgbot.ErrorBadRequest,
		notErr:  bot.ErrRecipientGone,
	},
	{
		label:     "5xx is retried with backoff",
		msg:       bot.Outgoing{To: to, Text: "hi"},
		replies:   map[string][]string{"sendMessage": {page502, reply500, sent(7)}},
		wantReq:   []fakeRequest{{Method: "sendMessage"}, {Method: "sendMessage"}, {Method: "sendMessage"}},
		wantID:    "7",
		wantSlept: []time.Duration{500 * time.Millisecond, time.Second},
	},
	{
		label:     "a dropped connection is retried",
		msg:       bot.Outgoing{To: to, Text: "hi"},
		replies:   map[string][]string{"sendMessage": {"<drop>", sent(8)}},
		wantReq:   []fakeRequest{{Method: "sendMessage"}, {Method: "sendMessage"}},
		wantID:    "8",
		wantSlept: []time.Duration{500 * time.Millisecond},
	},
	{
		label:     "retries are bounded",
		msg:       bot.Outgoing{To: to, Text: "hi"},
		replies:   map[string][]string{"sendMessage": {page502, page502, page502, page502}},
		wantReq:   []fakeRequest{{Method: "sendMessage"}, {Method: "sendMessage"}, {Method: "sendMessage"}, {Method: "sendMessage"}},
		wantSlept: []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second},
		notErr:    bot.ErrRecipientGone,
	},
	{
		label:     "429 waits retry_after, then resends",
		msg:       bot.Outgoing{To: to, Text: "hi"},
		replies:   map[string][]string{"sendMessage": {reply429(1), sent(9)}},
		wantReq:   []fakeRequest{{Method: "sendMessage"}, {Method: "sendMessage"}},
		wantID:    "9",
		wantSlept: []time.Duration{time.Second},
	},
	{
		label:    "429 longer than the longest wait gives ThrottledError",
		msg:      bot.Outgoing{To: to, Text: "hi"},
		replies:  map[string][]string{"sendMessage": {reply429(60)}},
		wantReq:  []fakeRequest{{Method: "sendMessage"}},
		wantWait: time.Minute,
	},
	{
		label:    "payload over 64 bytes is refused before sending",
		msg:      bot.Outgoing{To: to, Text: "hi", Buttons: [][]bot.Button{{{Text: "x", Payload: strings.Repeat("p", 65)}}}},
		wantText: "payload of 65 bytes",
	},
	{
		label:    "not a telegram address",
		msg:      bot.Outgoing{To: bot.Address{Channel: "whatsapp", ID: "970599123456"}, Text: "hi"},
		wantText: "not a telegram address",
	},
	{
		label:    "blank text",
		msg:      bot.Outgoing{To: to, Text: " \n "},
		wantText: "empty text",
	},
}

func TestSend(t *testing.T) {
	for _, tc := range sendCases {
		t.Run(tc.label, func(t *testing.T) {
			f := newFake(t)
			for m, r := range tc.replies {
				f.reply(m, r...)
			}
			if tc.forbidden {
				f.forbidden[to.ID] = true
			}
			c := newTestChannel(t, f)

			id, err := c.Send(context.Background(), tc.msg)

			var throttled *bot.ThrottledError
			switch {
			case tc.wantWait > 0:
				require.ErrorAs(t, err, &throttled)
				assert.Equal(t, tc.wantWait, throttled.RetryAfter)
			case tc.wantText != "":
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantText)
			case tc.wantErr != nil:
				require.ErrorIs(t, err, tc.wantErr)
			case tc.wantID == "":
				require.Error(t, err)
			default:
				require.NoError(t, err)
				assert.Equal(t, tc.wantID, id)
			}
			if tc.notErr != nil {
				assert.NotErrorIs(t, err, tc.notErr)
			}
			if err != nil {
				assert.NotContains(t, err.Error(), testToken)
			}

			got := f.allCalls()
			require.Len(t, got, len(tc.wantReq))
			for i, want := range tc.wantReq {
				assert.Equal(t, want.Method, got[i].Method)
				for k, v := range want.Form {
					if v == absent {
						assert.NotContains(t, got[i].Form, k)
						continue
					}
					assert.Equal(t, v, got[i].Form[k], "request %d field %s", i, k)
				}
			}
			assert.Equal(t, tc.wantSlept, c.clock.Slept())
			assert.Empty(t, f.unused(), "canned replies not used")
		})
	}
}

// TestThrottleHoldsEverySend checks that after a 429 nothing more is sent on
// the bot until retry_after has passed.
func TestThrottleHoldsEverySend(t *testing.T) {
	f := newFake(t)
	f.reply("sendMessage", reply429(45))
	c := newTestChannel(t, f, WithMaxThrottleWait(30*time.Second))
	ctx := context.Background()

	_, err := c.Send(ctx, bot.Outgoing{To: to, Text: "first"})
	var throttled *bot.ThrottledError
	require.ErrorAs(t, err, &throttled)
	assert.Equal(t, 45*time.Second, throttled.RetryAfter)

	// another person, same bot: held back without a request
	_, err = c.Send(ctx, bot.Outgoing{To: bot.Address{Channel: "telegram", ID: "777"}, Text: "second"})
	require.ErrorAs(t, err, &throttled)
	assert.Equal(t, 45*time.Second, throttled.RetryAfter)
	assert.Len(t, f.calls("sendMessage"), 1)

	// 20s later the rest of the wait is short enough to sit out
	require.NoError(t, c.clock.Sleep(ctx, 20*time.Second))
	id, err := c.Send(ctx, bot.Outgoing{To: to, Text: "third"})
	require.NoError(t, err)
	assert.NotEmpty(t, id)
	assert.Equal(t, []time.Duration{20 * time.Second, 25 * time.Second}, c.clock.Slept())
	assert.Len(t, f.calls("sendMessage"), 2)
}

func TestSplitText(t *testing.T) {
	cases := []struct {
		label string
		text  string
		limit int
		want  []string
	}{
		{"fits", "one\ntwo", 10, []string{"one\ntwo"}},
		{"at the last line break", "aaa\nbbb\ncccc", 8, []string{"aaa\nbbb", "cccc"}},
		{"at a space when a line is too long", "aaaa bbbb cccc", 10, []string{"aaaa bbbb", "cccc"}},
		{"hard when there is no space", "abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"blank parts dropped", "aaaa\n\n\n\nbbbb", 5, []string{"aaaa", "bbbb"}},
		{"blank text", "  \n ", 10, nil},
		{"emoji count twice", "😀😀😀", 4, []string{"😀😀", "😀"}},
		{"arabic counts once per letter", "سلام عليكم", 5, []string{"سلام", "عليكم"}},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			got := splitText(tc.text, tc.limit)
			assert.Equal(t, tc.want, got)
			for _, p := range got {
				assert.LessOrEqual(t, utf16Len(p), tc.limit)
			}
		})
	}
}

func TestEscapeHTML(t *testing.T) {
	in := `<b>Peace & "Unity"</b> 'x' &amp;`
	esc := escapeHTML(in)
	assert.Equal(t, `&lt;b&gt;Peace &amp; "Unity"&lt;/b&gt; 'x' &amp;amp;`, esc)
	shown, err := parseTelegramHTML(esc)
	require.NoError(t, err)
	assert.Equal(t, in, shown)
}

func TestCheck(t *testing.T) {
	f := newFake(t)

	t.Run("wrong token", func(t *testing.T) {
		c, err := New("999:wrong-token", WithServerURL(f.URL))
		require.NoError(t, err)
		_, err = c.Check(context.Background())
		require.ErrorIs(t, err, ErrUnauthorized)
		assert.Equal(t, "telegram: getMe: "+ErrUnauthorized.Error(), err.Error())
		assert.NotContains(t, err.Error(), "999:wrong-token")
		assert.Equal(t, "", c.ShareLink("x"))
	})

	t.Run("run stops at once on a wrong token", func(t *testing.T) {
		c, err := New("999:wrong-token", WithServerURL(f.URL), WithState(newFakeState()))
		require.NoError(t, err)
		err = c.Run(context.Background(), bot.HandlerFunc(func(context.Context, bot.Incoming) error { return nil }))
		require.ErrorIs(t, err, ErrUnauthorized)
		assert.Empty(t, f.calls("getUpdates"))
	})

	t.Run("right token and share link", func(t *testing.T) {
		c := newTestChannel(t, f)
		assert.Equal(t, "", c.ShareLink("c12_ref-AbC9"), "no username before Check")
		name, err := c.Check(context.Background())
		require.NoError(t, err)
		assert.Equal(t, testUsername, name)
		assert.Equal(t, "https://t.me/mobilise_test_bot?start=c12_ref-AbC9", c.ShareLink("c12_ref-AbC9"))
	})

	t.Run("server unreachable: the error names no token", func(t *testing.T) {
		down := httptest.NewServer(http.NotFoundHandler())
		down.Close()
		c := newTestChannel(t, &fakeTelegram{Server: down})
		_, err := c.Check(context.Background())
		require.Error(t, err)
		assert.NotErrorIs(t, err, ErrUnauthorized)
		assert.NotContains(t, err.Error(), testToken)
		assert.Len(t, c.clock.Slept(), maxAttempts-1, "network errors are retried")
	})
}

func TestNewValidates(t *testing.T) {
	for label, opts := range map[string][]Option{
		"webhook over http":   {WithWebhook("http://bot.example.org/hook", ":8443", "s3cret")},
		"webhook secret":      {WithWebhook("https://bot.example.org/hook", ":8443", "no spaces allowed")},
		"webhook no listener": {WithWebhook("https://bot.example.org/hook", "", "s3cret")},
		"no workers":          {WithWorkers(0)},
	} {
		_, err := New(testToken, opts...)
		assert.Error(t, err, label)
	}
	_, err := New("  ")
	assert.Error(t, err)
}

func readFixture(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "updates", name))
	require.NoError(t, err)
	return string(data)
}

func TestIncomingFromUpdate(t *testing.T) {
	at := func(sec int64) time.Time { return time.Unix(sec, 0).UTC() }
	cases := map[string]struct {
		want bot.Incoming
		ok   bool
	}{
		"private_text.json": {ok: true, want: bot.Incoming{
			From: bot.Address{Channel: "telegram", ID: "5551"}, Name: "ليلى حداد", Text: "مرحبا",
			LangHint: "ar", ExternalID: "1001", ReceivedAt: at(1767225600),
		}},
		"private_start_payload.json": {ok: true, want: bot.Incoming{
			From: bot.Address{Channel: "telegram", ID: "5552"}, Name: "Omar", Text: "/start c12_ref-AbC9",
			LangHint: "en", ExternalID: "1002", ReceivedAt: at(1767225601),
		}},
		"private_photo.json": {ok: true, want: bot.Incoming{
			From: bot.Address{Channel: "telegram", ID: "5551"}, Name: "ليلى", Text: "", Attachment: bot.Photo,
			File:     &bot.IncomingFile{MIME: "image/jpeg"},
			LangHint: "ar", ExternalID: "1003", ReceivedAt: at(1767225602),
		}},
		"private_service.json": {},
		"callback_query.json": {ok: true, want: bot.Incoming{
			From: bot.Address{Channel: "telegram", ID: "5552"}, Name: "Omar Khalil", Payload: "m7:camp:3",
			LangHint: "en", ExternalID: "1005",
		}},
		"callback_query_group.json": {ok: true, want: bot.Incoming{
			From: bot.Address{Channel: "telegram", ID: "5553"}, Name: "Rana", Payload: "m8:list",
			Group: true, Chat: bot.Address{Channel: "telegram", ID: "-1001234567890"}, ExternalID: "1006",
		}},
		"group_command_addressed.json": {ok: true, want: bot.Incoming{
			From: bot.Address{Channel: "telegram", ID: "5553"}, Name: "Rana", Text: "/campaigns gaza",
			Group: true, Chat: bot.Address{Channel: "telegram", ID: "-1001234567890"},
			LangHint: "ar", ExternalID: "1007", ReceivedAt: at(1767225604),
		}},
		"group_command_other_bot.json": {},
		"group_command_bare.json":      {},
		"group_chatter.json":           {},
		"my_chat_member_kicked.json": {ok: true, want: bot.Incoming{
			Kind: bot.KindBlocked, From: bot.Address{Channel: "telegram", ID: "5551"}, Name: "ليلى",
			LangHint: "ar", ExternalID: "1011", ReceivedAt: at(1767225608),
		}},
		"my_chat_member_group_removed.json": {},
		"edited_message.json":               {},
		"channel_post.json":                 {},
		"private_from_bot.json":             {},
	}
	files, err := filepath.Glob(filepath.Join("testdata", "updates", "*.json"))
	require.NoError(t, err)
	require.Len(t, files, len(cases), "each fixture needs a case")
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			tc, ok := cases[name]
			require.True(t, ok, "no case for %s", name)
			id, u, err := decodeUpdate([]byte(readFixture(t, name)))
			require.NoError(t, err)
			assert.Equal(t, u.ID, id)
			got, ok := incomingFromUpdate(u, testUsername)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestDecodeUpdateUnknownStatus(t *testing.T) {
	// a chat member status the library does not know must not lose the batch
	id, _, err := decodeUpdate([]byte(`{"update_id":77,"my_chat_member":{"chat":{"id":1,"type":"private"},"from":{"id":1,"is_bot":false,"first_name":"x"},"date":1,"old_chat_member":{"status":"member","user":{"id":2,"is_bot":true,"first_name":"b"}},"new_chat_member":{"status":"someday","user":{"id":2,"is_bot":true,"first_name":"b"}}}}`))
	require.Error(t, err)
	assert.Equal(t, int64(77), id)
	_, _, err = decodeUpdate([]byte(`{"message":{}}`))
	require.Error(t, err)
}

// recorder is a Handler that records what it is given.
// recorder is a handler that keeps what it handled. Given a state, it
// records each update there as handled, as the engine does in the unit of
// work that handles it: an update handled before is skipped, and one whose
// record fails is not handled (the channel must not confirm it).
type recorder struct {
	mu   sync.Mutex
	all  []bot.Incoming
	ch   chan bot.Incoming
	hook func(bot.Incoming)
	// mark records an update handled and reports whether it was new.
	mark func(id string) (bool, error)
}

func newRecorder() *recorder { return &recorder{ch: make(chan bot.Incoming, 1000)} }

func (r *recorder) HandleIncoming(_ context.Context, in bot.Incoming) error {
	if r.hook != nil {
		r.hook(in)
	}
	if r.mark != nil && in.ExternalID != "" {
		first, err := r.mark(in.ExternalID)
		if err != nil {
			return err
		}
		if !first {
			return nil
		}
	}
	r.mu.Lock()
	r.all = append(r.all, in)
	r.mu.Unlock()
	r.ch <- in
	return nil
}

func (r *recorder) wait(t *testing.T, n int) []bot.Incoming {
	t.Helper()
	var got []bot.Incoming
	for range n {
		select {
		case in := <-r.ch:
			got = append(got, in)
		case <-time.After(5 * time.Second):
			t.Fatalf("handler got %d of %d updates", len(got), n)
		}
	}
	return got
}

func (r *recorder) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, in := range r.all {
		ids = append(ids, in.ExternalID)
	}
	return ids
}

// running starts c.Run and returns a stop func that cancels it and returns its error.
func running(t testing.TB, c *Channel, h bot.Handler) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	return runningCtx(t, ctx, cancel, c, h)
}

func runningCtx(t testing.TB, ctx context.Context, cancel context.CancelFunc, c *Channel, h bot.Handler) (stop func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, h) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return after cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

func ids(in []bot.Incoming) []string {
	var out []string
	for _, i := range in {
		out = append(out, i.ExternalID)
	}
	slices.Sort(out)
	return out
}

func TestPolling(t *testing.T) {
	f := newFake(t)
	for _, name := range []string{"private_text.json", "callback_query.json", "group_chatter.json",
		"group_command_addressed.json", "my_chat_member_kicked.json", "edited_message.json"} {
		f.push(readFixture(t, name))
	}
	st := newFakeState()
	dir := &fakeDirectory{}
	c := newTestChannel(t, f, WithState(st), WithCommands(dir))
	rec := newRecorder()
	rec.mark = st.mark

	stop := running(t, c.Channel, rec)
	got := rec.wait(t, 4)
	require.NoError(t, stop())

	assert.Equal(t, []string{"1001", "1005", "1007", "1011"}, ids(got))
	answers := f.calls("answerCallbackQuery")
	require.Len(t, answers, 1)
	assert.Equal(t, "4382bfdwdsb323b2d9", answers[0].Form["callback_query_id"])
	st.mu.Lock()
	assert.Equal(t, int64(1014), st.offset, "offset past the last update, ignored ones included")
	assert.Len(t, st.handled, 4, "ignored updates need no record")
	st.mu.Unlock()

	// the order of calls at start
	var methods []string
	for _, r := range f.allCalls() {
		if r.Method != "answerCallbackQuery" && !slices.Contains(methods, r.Method) {
			methods = append(methods, r.Method)
		}
	}
	assert.Equal(t, []string{"getMe", "setMyCommands", "deleteWebhook", "getUpdates"}, methods)
	polls := f.calls("getUpdates")
	assert.Equal(t, `["message","callback_query","my_chat_member"]`, polls[0].Form["allowed_updates"])
	assert.Equal(t, "1", polls[0].Form["timeout"])
}

func TestPollingKeepsEachPersonsOrder(t *testing.T) {
	f := newFake(t)
	st := newFakeState()
	c := newTestChannel(t, f, WithState(st), WithWorkers(4))

	// two people on different workers
	alice := int64(7001)
	bob := alice + 1
	for shard(bot.Incoming{From: address(bob)}, 4) == shard(bot.Incoming{From: address(alice)}, 4) {
		bob++
	}
	var updates []string
	for i := 1; i <= 5; i++ {
		updates = append(updates, textUpdate(int64(2*i-1), alice, fmt.Sprintf("a%d", i)), textUpdate(int64(2*i), bob, fmt.Sprintf("b%d", i)))
	}
	f.push(updates...)

	// alice's first message is slow: it finishes only after all of bob's
	bobDone := make(chan struct{})
	var mu sync.Mutex
	order := map[string][]string{}
	rec := newRecorder()
	rec.mark = st.mark
	rec.hook = func(in bot.Incoming) {
		if in.Text == "a1" {
			select {
			case <-bobDone:
			case <-time.After(5 * time.Second):
				t.Error("bob's messages waited for alice's slow handler")
			}
		}
		mu.Lock()
		defer mu.Unlock()
		order[in.From.ID] = append(order[in.From.ID], in.Text)
		if in.Text == "b5" {
			close(bobDone)
		}
	}
	stop := running(t, c.Channel, rec)
	rec.wait(t, 10)
	require.NoError(t, stop())

	assert.Equal(t, []string{"a1", "a2", "a3", "a4", "a5"}, order[address(alice).ID])
	assert.Equal(t, []string{"b1", "b2", "b3", "b4", "b5"}, order[address(bob).ID])
}

func textUpdate(id, from int64, text string) string {
	return fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"from":{"id":%d,"is_bot":false,"first_name":"P%d"},"chat":{"id":%d,"type":"private"},"date":1767225600,"text":%q}}`,
		id, id, from, from, from, text)
}

// TestRestartBeforeConfirming crashes the process after every update of a
// batch was handled but before the offset was saved: Telegram sends the batch
// again, and nothing of it is handled twice.
func TestRestartBeforeConfirming(t *testing.T) {
	f := newFake(t)
	st := newFakeState()
	// one person, so the second run meets the re-sent updates before the new one
	for i := int64(1); i <= 6; i++ {
		f.push(textUpdate(i, 101, fmt.Sprintf("m%d", i)))
	}

	ctx, cancel := context.WithCancel(context.Background())
	st.onSetOffset = func(int64) {
		st.kill()
		cancel()
	}
	first := newRecorder()
	first.mark = st.mark
	c1 := newTestChannel(t, f, WithState(st))
	stop := runningCtx(t, ctx, cancel, c1.Channel, first)
	first.wait(t, 6)
	assert.ErrorIs(t, stop(), errCrashed, "the crashed run could not save the offset")
	assert.Equal(t, []int64{1, 2, 3, 4, 5, 6}, f.pending(), "nothing confirmed to Telegram")

	st.revive()
	f.push(textUpdate(7, 101, "m7"))
	second := newRecorder()
	second.mark = st.mark
	c2 := newTestChannel(t, f, WithState(st))
	stop = running(t, c2.Channel, second)
	second.wait(t, 1)
	require.NoError(t, stop())

	assert.Equal(t, []string{"1", "2", "3", "4", "5", "6"}, sortedIDs(first.ids()))
	assert.Equal(t, []string{"7"}, second.ids(), "the re-sent batch was skipped")
	st.mu.Lock()
	assert.Equal(t, int64(8), st.offset)
	st.mu.Unlock()
}

// TestCrashWhileHandling crashes the process in the middle of a batch: the
// updates not yet claimed come again and are handled then, each update is
// handled once in all, and each person's updates in order.
func TestCrashWhileHandling(t *testing.T) {
	f := newFake(t)
	st := newFakeState()
	for i := int64(1); i <= 12; i++ {
		f.push(textUpdate(i, 200+i%4, fmt.Sprintf("m%d", i)))
	}
	ctx, cancel := context.WithCancel(context.Background())
	first := newRecorder()
	first.mark = st.mark
	first.hook = func(in bot.Incoming) {
		if in.ExternalID == "3" {
			st.kill()
			cancel()
		}
	}
	c1 := newTestChannel(t, f, WithState(st))
	stop := runningCtx(t, ctx, cancel, c1.Channel, first)
	// updates 1 and 2 may or may not be claimed before 3 crashes the
	// process: they are handled in parallel
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("update 3 never handled")
	}
	_ = stop() // the crashed run's error is about the lost state

	st.revive()
	second := newRecorder()
	second.mark = st.mark
	c2 := newTestChannel(t, f, WithState(st))
	stop = running(t, c2.Channel, second)
	n := 12 - len(first.ids())
	second.wait(t, n)
	require.NoError(t, stop())

	all := append(first.ids(), second.ids()...)
	assert.Equal(t, []string{"1", "10", "11", "12", "2", "3", "4", "5", "6", "7", "8", "9"}, sortedIDs(all), "each update handled exactly once")
	assert.Less(t, len(first.ids()), 12, "the crash left updates for the next run")
	// per person, IDs come in increasing order across both runs
	byPerson := map[string][]int{}
	for _, r := range []*recorder{first, second} {
		r.mu.Lock()
		for _, in := range r.all {
			n, _ := strconv.Atoi(in.ExternalID)
			byPerson[in.From.ID] = append(byPerson[in.From.ID], n)
		}
		r.mu.Unlock()
	}
	for p, seq := range byPerson {
		assert.True(t, slices.IsSorted(seq), "person %s: %v", p, seq)
	}
}

func sortedIDs(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// TestPollingRetriesAFailedClaim: a handler that could not commit (the
// disk was full) gets the update again.
func TestPollingRetriesAFailedClaim(t *testing.T) {
	f := newFake(t)
	st := newFakeState()
	st.failMarkOnce[2] = errors.New("disk full")
	f.push(textUpdate(1, 300, "one"), textUpdate(2, 300, "two"), textUpdate(3, 300, "three"))
	c := newTestChannel(t, f, WithState(st))
	rec := newRecorder()
	rec.mark = st.mark
	stop := running(t, c.Channel, rec)
	got := rec.wait(t, 3)
	require.NoError(t, stop())
	var texts []string
	for _, in := range got {
		texts = append(texts, in.Text)
	}
	assert.Equal(t, []string{"one", "two", "three"}, texts)
	assert.Contains(t, c.clock.Slept(), pollBackoffMin, "backed off after the failed claim")
}

// readSpy is a request body that records whether it was read.
type readSpy struct {
	io.Reader
	read bool
}

func (r *readSpy) Read(p []byte) (int, error) {
	r.read = true
	return r.Reader.Read(p)
}

func (r *readSpy) Close() error { return nil }

func TestWebhookHandler(t *testing.T) {
	const secret = "s3cret_Token-1"
	f := newFake(t)
	st := newFakeState()
	c := newTestChannel(t, f, WithState(st), WithWebhook("https://bot.example.org/tg/hook", "127.0.0.1:0", secret))
	_, err := c.Check(context.Background())
	require.NoError(t, err)
	rec := newRecorder()
	rec.mark = st.mark
	h := c.WebhookHandler(rec)

	post := func(header, body string) (int, *readSpy) {
		spy := &readSpy{Reader: strings.NewReader(body)}
		req := httptest.NewRequest(http.MethodPost, "/tg/hook", nil)
		req.Body = spy
		if header != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", header)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code, spy
	}
	update := readFixture(t, "private_text.json")

	code, spy := post("", update)
	assert.Equal(t, http.StatusUnauthorized, code, "no secret")
	assert.False(t, spy.read, "body read before the secret was checked")
	code, spy = post("s3cret_Token-2", update)
	assert.Equal(t, http.StatusUnauthorized, code, "wrong secret")
	assert.False(t, spy.read)
	assert.Empty(t, rec.ids(), "handler called without the secret")

	code, _ = post(secret, update)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, []string{"1001"}, ids(rec.wait(t, 1)))

	code, _ = post(secret, update)
	assert.Equal(t, http.StatusOK, code, "a re-delivery is accepted")
	assert.Equal(t, []string{"1001"}, rec.ids(), "and not handled again")

	code, _ = post(secret, readFixture(t, "callback_query.json"))
	assert.Equal(t, http.StatusOK, code)
	rec.wait(t, 1)
	assert.Len(t, f.calls("answerCallbackQuery"), 1)

	code, _ = post(secret, readFixture(t, "group_chatter.json"))
	assert.Equal(t, http.StatusOK, code)
	code, _ = post(secret, `{"nonsense":true}`)
	assert.Equal(t, http.StatusBadRequest, code)

	st.mu.Lock()
	st.failMarkOnce[1002] = errors.New("disk full")
	st.mu.Unlock()
	code, _ = post(secret, readFixture(t, "private_start_payload.json"))
	assert.Equal(t, http.StatusInternalServerError, code, "Telegram will deliver it again")
	assert.Equal(t, []string{"1001", "1005"}, rec.ids())
}

// TestWebhookThenPolling runs in webhook mode, then switches back to polling,
// which removes the webhook.
func TestWebhookThenPolling(t *testing.T) {
	const secret = "s3cret_Token-1"
	f := newFake(t)
	st := newFakeState()
	c := newTestChannel(t, f, WithState(st), WithWebhook("https://bot.example.org/tg/hook", "127.0.0.1:0", secret))
	c.webhookListening = make(chan string, 1)
	rec := newRecorder()
	rec.mark = st.mark
	stop := running(t, c.Channel, rec)
	var addr string
	select {
	case addr = <-c.webhookListening:
	case <-time.After(5 * time.Second):
		t.Fatal("webhook never registered")
	}

	hooks := f.calls("setWebhook")
	require.Len(t, hooks, 1)
	assert.Equal(t, "https://bot.example.org/tg/hook", hooks[0].Form["url"])
	assert.Equal(t, secret, hooks[0].Form["secret_token"])
	assert.Equal(t, `["message","callback_query","my_chat_member"]`, hooks[0].Form["allowed_updates"])
	assert.NotContains(t, hooks[0].Form, "drop_pending_updates", "pending updates are kept")

	for _, tc := range []struct {
		path, secret string
		want         int
	}{
		{"/tg/hook", "wrong", http.StatusUnauthorized},
		{"/elsewhere", secret, http.StatusNotFound},
		{"/tg/hook", secret, http.StatusOK},
	} {
		req, err := http.NewRequest(http.MethodPost, "http://"+addr+tc.path, strings.NewReader(readFixture(t, "private_text.json")))
		require.NoError(t, err)
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", tc.secret)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, tc.want, resp.StatusCode, tc.path)
	}
	rec.wait(t, 1)
	require.NoError(t, stop())
	assert.Empty(t, f.calls("deleteWebhook"), "stopping keeps the webhook for the next start")

	// back to polling: the webhook goes, and getUpdates works
	f.push(textUpdate(5000, 9, "polling again"))
	c2 := newTestChannel(t, f, WithState(st))
	rec2 := newRecorder()
	rec2.mark = st.mark
	stop = running(t, c2.Channel, rec2)
	assert.Equal(t, "polling again", rec2.wait(t, 1)[0].Text)
	require.NoError(t, stop())
	assert.Len(t, f.calls("deleteWebhook"), 1)
}

// privileged is a person with a role above citizen, for fakeDirectory.
type privileged struct {
	Address bot.Address
	Role    store.Role
	Lang    string
}

// fakeDirectory gives every role one more command than the role below.
type fakeDirectory struct {
	mu         sync.Mutex
	privileged []privileged
}

func (d *fakeDirectory) DefaultCommands(lang string) []bot.Command {
	return d.Commands(lang, store.RoleCitizen)
}

func (d *fakeDirectory) PersonalMenus(_ context.Context, channel bot.ChannelName) ([]bot.PersonalMenu, error) {
	people, err := d.Privileged(channel)
	var out []bot.PersonalMenu
	for _, p := range people {
		lang := p.Lang
		if lang == "" {
			lang = "ar"
		}
		out = append(out, bot.PersonalMenu{Address: p.Address, Commands: d.Commands(lang, p.Role)})
	}
	return out, err
}

func (d *fakeDirectory) MenusChanged() <-chan struct{} { return nil }

func (d *fakeDirectory) Commands(lang string, role store.Role) []bot.Command {
	cmds := []bot.Command{{Name: "start", Description: lang + " start"}, {Name: "/help", Description: lang + " help"}}
	if role.AtLeast(store.RoleCoordinator) {
		cmds = append(cmds, bot.Command{Name: "broadcast", Description: lang + " broadcast"})
	}
	if role.AtLeast(store.RoleAdmin) {
		cmds = append(cmds, bot.Command{Name: "approve", Description: lang + " approve"})
	}
	return cmds
}

func (d *fakeDirectory) Privileged(channel bot.ChannelName) ([]privileged, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []privileged
	for _, p := range d.privileged {
		if p.Address.Channel == channel {
			out = append(out, p)
		}
	}
	return out, nil
}

func TestRefreshCommands(t *testing.T) {
	f := newFake(t)
	dir := &fakeDirectory{privileged: []privileged{
		{Address: bot.Address{Channel: "telegram", ID: "777"}, Role: store.RoleAdmin, Lang: "en"},
		{Address: bot.Address{Channel: "telegram", ID: "888"}, Role: store.RoleCoordinator},
		{Address: bot.Address{Channel: "whatsapp", ID: "970599123456"}, Role: store.RoleAdmin, Lang: "ar"},
	}}
	c := newTestChannel(t, f, WithCommands(dir))
	require.NoError(t, c.RefreshCommands(context.Background()))

	menu := func(lang string, extra ...string) string {
		cmds := []map[string]string{{"command": "start", "description": lang + " start"}, {"command": "help", "description": lang + " help"}}
		for _, e := range extra {
			cmds = append(cmds, map[string]string{"command": e, "description": lang + " " + e})
		}
		data, err := json.Marshal(cmds)
		require.NoError(t, err)
		return string(data)
	}
	want := []map[string]string{
		{"scope": `{"type":"default"}`, "language_code": absent, "commands": menu("ar")},
		{"scope": `{"type":"default"}`, "language_code": "ar", "commands": menu("ar")},
		{"scope": `{"type":"default"}`, "language_code": "en", "commands": menu("en")},
		{"scope": `{"type":"chat","chat_id":777}`, "language_code": absent, "commands": menu("en", "broadcast", "approve")},
		{"scope": `{"type":"chat","chat_id":888}`, "language_code": absent, "commands": menu("ar", "broadcast")},
	}
	assertForms(t, want, f.calls("setMyCommands"))

	// 888 is no longer a coordinator: their own menu goes
	dir.mu.Lock()
	dir.privileged = dir.privileged[:1]
	dir.mu.Unlock()
	require.NoError(t, c.RefreshCommands(context.Background()))
	assertForms(t, want[:4], f.calls("setMyCommands")[5:])
	assertForms(t, []map[string]string{{"scope": `{"type":"chat","chat_id":888}`}}, f.calls("deleteMyCommands"))
}

func TestRefreshCommandsRefusesABadCommand(t *testing.T) {
	f := newFake(t)
	c := newTestChannel(t, f, WithCommands(badDirectory{}))
	err := c.RefreshCommands(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"Start!"`)
	assert.Empty(t, f.calls("setMyCommands"))
}

type badDirectory struct{}

func (badDirectory) DefaultCommands(string) []bot.Command {
	return []bot.Command{{Name: "Start!", Description: "x"}}
}

func (badDirectory) PersonalMenus(context.Context, bot.ChannelName) ([]bot.PersonalMenu, error) {
	return nil, nil
}

func (badDirectory) MenusChanged() <-chan struct{} { return nil }

func assertForms(t *testing.T, want []map[string]string, got []fakeRequest) {
	t.Helper()
	require.Len(t, got, len(want))
	for i, w := range want {
		for k, v := range w {
			if v == absent {
				assert.NotContains(t, got[i].Form, k, "request %d", i)
				continue
			}
			assert.Equal(t, v, got[i].Form[k], "request %d field %s", i, k)
		}
	}
}

// failingTransport fails the first calls of some methods before they reach
// the server, as a broken network does.
type failingTransport struct {
	mu   sync.Mutex
	fail map[string]int
}

func (ft *failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	method := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	ft.mu.Lock()
	n := ft.fail[method]
	if n > 0 {
		ft.fail[method] = n - 1
	}
	ft.mu.Unlock()
	if n > 0 {
		return nil, errors.New("connection reset by peer")
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestPollingRidesOutErrors(t *testing.T) {
	f := newFake(t)
	f.reply("getUpdates",
		page502,
		`{"ok":false,"error_code":409,"description":"Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}`,
		reply429(3))
	f.push(textUpdate(1, 5, "after the storm"))
	st := newFakeState()
	flaky := &failingTransport{fail: map[string]int{"getUpdates": 1}}
	c := newTestChannel(t, f, WithState(st), WithHTTPClient(&http.Client{Transport: flaky}))
	rec := newRecorder()
	rec.mark = st.mark

	stop := running(t, c.Channel, rec)
	assert.Equal(t, "after the storm", rec.wait(t, 1)[0].Text)
	require.NoError(t, stop())

	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}, c.clock.Slept())
	assert.Contains(t, c.logs.String(), "<token>", "the failed URL is logged with the token hidden")
	assert.Empty(t, f.unused())
}

func TestPollingStopsWhenTheTokenIsRevoked(t *testing.T) {
	f := newFake(t)
	f.reply("getUpdates", `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
	c := newTestChannel(t, f, WithState(newFakeState()))
	err := c.Run(context.Background(), newRecorder())
	require.ErrorIs(t, err, ErrUnauthorized)
	assert.NotContains(t, err.Error(), testToken)
}

// crashingState passes through to a real store, but dies at the first
// SetTelegramOffset, as a process killed just before saving the offset.
type crashingState struct {
	*store.Store
	crash func()
}

func (s *crashingState) SetTelegramOffset(context.Context, int64) error {
	s.crash()
	return errCrashed
}

// TestRestartWithStore is TestRestartBeforeConfirming on a real bbolt file,
// closed and opened again between the runs.
func TestRestartWithStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mobilise.db")
	f := newFake(t)
	for i := int64(1); i <= 3; i++ {
		f.push(textUpdate(i, 400, fmt.Sprintf("m%d", i)))
	}

	st, err := store.Open(path, store.WithBatchDelay(0))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	first := newRecorder()
	first.mark = storeMark(st)
	c1 := newTestChannel(t, f, WithState(&crashingState{Store: st, crash: cancel}))
	stop := runningCtx(t, ctx, cancel, c1.Channel, first)
	first.wait(t, 3)
	assert.ErrorIs(t, stop(), errCrashed)
	require.NoError(t, st.Close())
	assert.Equal(t, []int64{1, 2, 3}, f.pending(), "nothing confirmed to Telegram")

	st, err = store.Open(path, store.WithBatchDelay(0))
	require.NoError(t, err)
	defer st.Close()
	f.push(textUpdate(4, 400, "m4"))
	second := newRecorder()
	second.mark = storeMark(st)
	c2 := newTestChannel(t, f, WithState(st))
	stop = running(t, c2.Channel, second)
	second.wait(t, 1)
	require.NoError(t, stop())

	assert.Equal(t, []string{"1", "2", "3"}, first.ids())
	assert.Equal(t, []string{"4"}, second.ids())
	offset, err := st.TelegramOffset(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(5), offset)
}

// the store keeps the channel's state
var _ State = (*store.Store)(nil)

func TestRedact(t *testing.T) {
	f := newFake(t)
	c := newTestChannel(t, f)
	assert.Equal(t, bot.Telegram, c.Name())
	inner := fmt.Errorf("post https://api.telegram.org/bot%s/sendMessage: %w", testToken, context.DeadlineExceeded)
	err := c.redact(inner)
	assert.Equal(t, "post https://api.telegram.org/bot<token>/sendMessage: context deadline exceeded", err.Error())
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	plain := errors.New("no token here")
	assert.Same(t, plain, c.redact(plain))
	assert.NoError(t, c.redact(nil))
}

// storeMark records updates handled in a real store, as the engine does.
func storeMark(st *store.Store) func(string) (bool, error) {
	return func(id string) (bool, error) { return st.MarkHandled(context.Background(), bot.Telegram, id) }
}
