package telegram

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
)

// switchableAPI serves the fake Bot API on a fixed address that can go down
// (the listener closed: connections refused, calls in flight cut) and come
// back up on the same address, as the Bot API does to a bot during an
// outage of the network between them.
type switchableAPI struct {
	t       *testing.T
	addr    string
	handler http.Handler
	mu      sync.Mutex
	srv     *http.Server
}

func newSwitchableAPI(t *testing.T, h http.Handler) *switchableAPI {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &switchableAPI{t: t, addr: ln.Addr().String(), handler: h}
	s.serve(ln)
	t.Cleanup(s.down)
	return s
}

func (s *switchableAPI) url() string { return "http://" + s.addr }

func (s *switchableAPI) serve(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.srv = &http.Server{Handler: s.handler}
	go func(srv *http.Server) { _ = srv.Serve(ln) }(s.srv)
}

func (s *switchableAPI) down() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		_ = s.srv.Close()
		s.srv = nil
	}
}

func (s *switchableAPI) up() {
	ln, err := net.Listen("tcp", s.addr)
	require.NoError(s.t, err)
	s.serve(ln)
}

// failureCounter is an HTTP transport that signals each failed call.
type failureCounter struct {
	base   http.RoundTripper
	failed chan error
}

func (f *failureCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := f.base.RoundTrip(r)
	if err != nil {
		select {
		case f.failed <- err:
		default:
		}
	}
	return resp, err
}

// waitFailures waits until n calls have failed.
func (f *failureCounter) waitFailures(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-f.failed:
		case <-time.After(10 * time.Second):
			t.Fatalf("calls did not fail while the Bot API was down")
		}
	}
}

func faultUpdate(id int, text string) string {
	return fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":1767225600,"text":%q,`+
		`"chat":{"id":12345,"type":"private"},"from":{"id":12345,"is_bot":false,"first_name":"Laila"}}}`, id, id, text)
}

// waitText waits for the handler to receive a message with the given text.
func waitText(t *testing.T, got <-chan bot.Incoming, text string) {
	t.Helper()
	select {
	case in := <-got:
		assert.Equal(t, text, in.Text)
	case <-time.After(15 * time.Second):
		t.Fatalf("update %q never reached the handler", text)
	}
}

// TestBotAPIOutage takes the Bot API away while the channel polls and sends,
// and brings it back: polling rides the outage out with backoff and picks up
// the update that arrived meanwhile, a send during the outage fails with an
// ordinary error (the person is not marked gone, nothing is throttled) that
// holds no token, and sends work again once the API is back.
func TestBotAPIOutage(t *testing.T) {
	f := newFake(t)
	api := newSwitchableAPI(t, f)
	tr := &failureCounter{base: &http.Transport{}, failed: make(chan error, 10_000)}
	st := newFakeState()
	c := newTestChannel(t, f, WithServerURL(api.url()), WithState(st), WithHTTPClient(&http.Client{Transport: tr}))

	got := make(chan bot.Incoming, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- c.Run(ctx, bot.HandlerFunc(func(_ context.Context, in bot.Incoming) error { got <- in; return nil }))
	}()
	f.push(faultUpdate(1, "before"))
	waitText(t, got, "before")

	api.down()
	tr.waitFailures(t, 3) // polls fail: the one in flight is cut, the next ones refused
	f.push(faultUpdate(2, "during"))
	to := bot.Address{Channel: "telegram", ID: "12345"}
	_, err := c.Send(ctx, bot.Outgoing{To: to, Text: "سلام"})
	require.Error(t, err, "the API is down")
	assert.False(t, errors.Is(err, bot.ErrRecipientGone), "an outage is not the person blocking the bot: %v", err)
	var throttled *bot.ThrottledError
	assert.False(t, errors.As(err, &throttled))
	assert.NotContains(t, err.Error(), testToken)
	assert.Contains(t, err.Error(), "telegram: sendMessage to telegram:12345")

	api.up()
	waitText(t, got, "during")
	id, err := c.Send(ctx, bot.Outgoing{To: to, Text: "سلام"})
	require.NoError(t, err, "sends resume")
	assert.NotEmpty(t, id)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
	st.mu.Lock()
	assert.Equal(t, int64(3), st.offset, "both updates confirmed")
	st.mu.Unlock()
	assert.Contains(t, c.logs.String(), "fetching updates", "the outage is logged")
	assert.NotEmpty(t, c.clock.Slept(), "polling backed off while the API was down")
	sends := 0
	for _, r := range f.calls("sendMessage") {
		if r.Form["chat_id"] == "12345" {
			sends++
		}
	}
	assert.Equal(t, 1, sends, "the send during the outage never reached the API")
}
