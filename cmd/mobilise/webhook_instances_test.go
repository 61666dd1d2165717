package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/store/postgres/pgtest"
)

// webhookCall is one setWebhook the fake answered.
type webhookCall struct {
	via, url, secret string
}

// setWebhook registers the webhook; as on Telegram, the latest call wins.
func (f *crashBotAPI) setWebhook(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		f.fail(w, http.StatusBadRequest, "Bad Request: "+err.Error())
		return
	}
	_, via := viaPath(r)
	f.mu.Lock()
	f.webhooks = append(f.webhooks, webhookCall{via: via, url: r.FormValue("url"), secret: r.FormValue("secret_token")})
	f.mu.Unlock()
	io.WriteString(w, `{"ok":true,"result":true}`)
}

// webhook returns the webhook registered last, the one Telegram calls.
func (f *crashBotAPI) webhook() (webhookCall, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.webhooks) == 0 {
		return webhookCall{}, false
	}
	return f.webhooks[len(f.webhooks)-1], true
}

// roundRobin is an HTTPS reverse proxy that passes each request to the
// next of its backends in turn, as nginx does with an upstream of several
// servers, and names in X-Backend the backend that answered.
type roundRobin struct {
	*httptest.Server
	mu       sync.Mutex
	backends []*url.URL
	names    map[string]string // backend host → instance name
	next     int
}

func newRoundRobin(t *testing.T) *roundRobin {
	rr := &roundRobin{names: map[string]string{}}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(rr.pick())
			r.SetXForwarded()
		},
		ModifyResponse: func(resp *http.Response) error {
			resp.Header.Set("X-Backend", rr.name(resp.Request.URL.Host))
			return nil
		},
	}
	rr.Server = httptest.NewTLSServer(rp)
	t.Cleanup(rr.Close)
	return rr
}

// add puts the instance name listening on addr behind the proxy.
func (rr *roundRobin) add(name, addr string) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	rr.backends = append(rr.backends, &url.URL{Scheme: "http", Host: addr})
	rr.names[addr] = name
}

func (rr *roundRobin) pick() *url.URL {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	u := rr.backends[rr.next%len(rr.backends)]
	rr.next++
	return u
}

func (rr *roundRobin) name(host string) string {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return rr.names[host]
}

// webhookRegistered finds the address the webhook server listens on in an
// instance's log.
var webhookRegistered = regexp.MustCompile(`msg="webhook registered".* listen=(\S+)`)

// webhookSender is Telegram calling the webhook: each update is POSTed
// with the secret until it is answered 200, as Telegram does.
type webhookSender struct {
	client      *http.Client
	url, secret string

	mu sync.Mutex
	// statuses counts the answers other than 200, and the requests that got none
	statuses map[string]int
	// answered counts the 200s each instance gave
	answered map[string]int
	// once counts the 200s each instance gave to updates delivered only once:
	// those it handled itself
	once map[string]int
}

// deliver POSTs the update until it is answered 200 and returns the
// instance that answered it.
func (s *webhookSender) deliver(ctx context.Context, u heldUpdate) (string, error) {
	for attempt := 0; ; attempt++ {
		backend, status, err := s.post(ctx, u)
		s.mu.Lock()
		switch {
		case err != nil:
			s.statuses["error: "+err.Error()]++
		case status != http.StatusOK:
			s.statuses[fmt.Sprintf("%d from %s", status, backend)]++
		default:
			s.answered[backend]++
		}
		s.mu.Unlock()
		if err == nil && status == http.StatusOK {
			return backend, nil
		}
		if attempt == 20 {
			return "", fmt.Errorf("update %d: no 200 after %d attempts", u.id, attempt+1)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *webhookSender) post(ctx context.Context, u heldUpdate) (backend string, status int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader([]byte(u.raw)))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", s.secret)
	resp, err := s.client.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.Header.Get("X-Backend"), resp.StatusCode, err
}

// TestWebhookInstancesBehindProxy runs two instances of the program in
// webhook mode on one PostgreSQL database behind one round-robin reverse
// proxy. Telegram (the test) calls the webhook with 200 updates from 100
// people, two each, one person's next update only after the previous one's
// 200, up to 40 at once; a quarter of the people have each update
// delivered twice at once (Telegram timed out and tried again, and the
// proxy passed the two to different instances) and another quarter twice
// in a row (the 200 was lost). Each update is handled once, whichever
// instance gets it and however often: every person is answered exactly
// once per message, every call is answered 200, and both instances handle
// some of the updates.
func TestWebhookInstancesBehindProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program")
	}
	dbURL := pgtest.NewDatabase(t)
	mobiliseBinary(t) // not timed
	const people, perPerson, parallel = 100, 2, 40
	api := newCrashBotAPI(t, 30)
	proxy := newRoundRobin(t)
	hook := proxy.URL + "/tg/hook"

	var instances []*botProcess
	for _, name := range []string{"first", "second"} {
		p := startInstance(t, dbURL, api, name, "--telegram-webhook", hook, "--telegram-listen", "127.0.0.1:0")
		var addr string
		waitFor(t, p, 30*time.Second, "the "+name+" instance's webhook registered", func() bool {
			m := webhookRegistered.FindStringSubmatch(p.stderr())
			if m != nil {
				addr = m[1]
			}
			return m != nil
		})
		proxy.add(name, addr)
		instances = append(instances, p)
	}
	reg, ok := api.webhook()
	require.True(t, ok, "a webhook registered")
	assert.Equal(t, hook, reg.url)

	s := &webhookSender{client: proxy.Client(), url: reg.url, secret: reg.secret,
		statuses: map[string]int{}, answered: map[string]int{}, once: map[string]int{}}
	s.client.Timeout = 30 * time.Second
	ctx := t.Context()
	began := time.Now()
	sem := make(chan struct{}, parallel)
	errs := make(chan error, people)
	var wg sync.WaitGroup
	twice := 0
	// split counts the updates delivered twice at once to both instances
	var split atomic.Int32
	for i := range people {
		if i%4 < 2 {
			twice += perPerson
		}
		wg.Go(func() {
			chat := int64(firstWriter + i)
			for k := range perPerson {
				u := startUpdateJSON(int64(k*people+i+1), chat)
				sem <- struct{}{}
				var err error
				switch i % 4 {
				case 0: // two calls at once
					var other sync.WaitGroup
					var otherErr error
					var mine, theirs string
					other.Go(func() { theirs, otherErr = s.deliver(ctx, u) })
					mine, err = s.deliver(ctx, u)
					other.Wait()
					err = errors.Join(err, otherErr)
					if err == nil && mine != theirs {
						split.Add(1)
					}
				case 1: // again after the 200
					_, err = s.deliver(ctx, u)
					if err == nil {
						_, err = s.deliver(ctx, u)
					}
				default:
					var backend string
					backend, err = s.deliver(ctx, u)
					s.mu.Lock()
					s.once[backend]++
					s.mu.Unlock()
				}
				<-sem
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	delivered := time.Since(began)

	waitFor(t, instances[0], time.Minute, "every message answered", func() bool {
		got := api.answers(people)
		n := 0
		for _, c := range got {
			n += c
		}
		return n >= people*perPerson
	})
	allAnswered := time.Since(began)
	time.Sleep(2 * time.Second) // an answer sent twice arrives
	got := api.answers(people)
	wrong := 0
	for i := range people {
		if c := got[int64(firstWriter+i)]; c != perPerson {
			wrong++
			t.Errorf("chat %d answered %d times for %d messages", firstWriter+i, c, perPerson)
		}
	}
	s.mu.Lock()
	statuses, answered, once := s.statuses, s.answered, s.once
	s.mu.Unlock()
	assert.Empty(t, statuses, "every call answered 200 at the first attempt")
	for _, name := range []string{"first", "second"} {
		assert.Positive(t, once[name], "the %s instance handled updates", name)
	}
	assert.Positive(t, split.Load(), "some updates delivered twice at once reached both instances")
	for i, p := range instances {
		require.Equal(t, 0, p.stop(t, syscall.SIGTERM), "a clean exit of instance %d; its log:\n%s", i+1, p.stderr())
		assert.NotContains(t, p.stderr(), "level=ERROR", "no error on instance %d", i+1)
	}
	secrets := map[string]bool{}
	api.mu.Lock()
	for _, w := range api.webhooks {
		secrets[w.secret] = true
	}
	unknown := api.unknown
	api.mu.Unlock()
	assert.Len(t, secrets, 1, "the instances registered one secret")
	assert.Empty(t, unknown, "no Bot API method the fake lacks")
	t.Logf("%d updates from %d people through a round-robin proxy to 2 instances, %d of them delivered twice (half at once, half in a row); "+
		"%d of those at once reached both instances; 200s per instance %v, of updates delivered once %v; other answers %v; "+
		"people answered other than once per message %d; all delivered in %v, all answered %v after the first",
		people*perPerson, people, twice, split.Load(), answered, once, statuses, wrong, delivered.Round(ms), allAnswered.Round(ms))
}
