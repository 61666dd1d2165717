package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"mobilise/bot"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot/outbox"
	"mobilise/messages"
	"mobilise/store"
)

// These tests run the real program as a process, stop it in the middle of a
// broadcast (SIGKILL, or SIGTERM for a clean stop), start it again on the
// same data directory, and count what a fake Bot API received.

const (
	crashToken = "123:abc"
	// crashCoordinator is the chat of the person who started the broadcast;
	// the progress report and the final report go there.
	crashCoordinator = 900
	// firstRecipient is the chat ID of the first recipient; the others follow.
	firstRecipient = 100_000
	crashTextAR    = "نداء المصالحة: انضموا إلينا يوم الجمعة في الساحة"
	crashTextEN    = "Call for reconciliation: join us on Friday in the square"
)

// builtBinary is the program built once per test run by the tests that run it
// as a process; TestMain removes it.
var builtBinary struct {
	once      sync.Once
	dir, path string
	out       []byte
	err       error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBinary.dir != "" {
		_ = os.RemoveAll(builtBinary.dir)
	}
	os.Exit(code)
}

// mobiliseBinary builds the program from this package's directory, the
// first time it is asked, and returns its path.
func mobiliseBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build the program with")
	}
	b := &builtBinary
	b.once.Do(func() {
		b.dir, b.err = os.MkdirTemp("", "mobilise-bin-")
		if b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "mobilise")
		cmd := exec.Command(goTool, "build", "-o", b.path, ".")
		b.out, b.err = cmd.CombinedOutput()
	})
	require.NoError(t, b.err, "building the program: %s", b.out)
	return b.path
}

// crashBotAPI is a Bot API that delivers messages. A sendMessage counts as
// delivered as soon as it is read, before the answer goes back after a
// random 20–50 ms, as on the real service: a client killed while waiting for
// the answer has still sent the message. It keeps to Telegram's rates: at
// most limit messages in any one second, one a second per chat after a
// burst of three, 20 a minute per group; a message over a rate is answered
// 429 with retry_after and not delivered, and any request that comes while
// a retry_after runs is a violation (Telegram takes that for flooding),
// which fails the test. getUpdates serves the updates pushed, with
// Telegram's offset semantics: an update comes again until a later offset
// confirms it.
type crashBotAPI struct {
	*httptest.Server
	limit int

	mu        sync.Mutex
	accepted  []time.Time // times of the latest accepted messages, oldest first
	delivered map[int64][]string
	tooMany   int
	sending   int // sendMessage calls being answered
	// answering counts per chat the messages delivered whose answer is not
	// written yet: a client killed now has sent them without knowing
	answering map[int64]int
	nextID    int
	conns     int
	unknown   []string
	// coordinator is the latest text of the coordinator's progress message.
	coordinator string

	buckets map[int64]*chatBucket
	groups  map[int64][]time.Time
	// throttleNext, when set, is the retry_after of a 429 for the next sendMessage
	throttleNext time.Duration
	windows      []rateWindow
	// inFlight counts requests that came within inFlightGrace of a 429
	inFlight   int
	violations []string
	// sent is every delivered message with when it came, in order
	sent []crashMessage

	updates []heldUpdate
	arrived chan struct{}
	// polling counts getUpdates calls waiting for an update
	polling int
	// served counts how often each update was handed out
	served map[int64]int
	// handedOut is signalled each time getUpdates hands out updates
	handedOut chan struct{}
	// media is what the fake saw of files (media_crash_test.go)
	media crashMedia
	// webhooks are the setWebhook calls, in order (webhook_instances_test.go)
	webhooks []webhookCall
}

// crashMessage is one delivered sendMessage.
type crashMessage struct {
	chat int64
	text string
	at   time.Time
	// via names the instance that sent it, when the instances are told
	// apart by their API URLs (startInstance)
	via string
}

// viaPath returns the request's path without the /via/NAME prefix by which
// an instance's API URL names it, and NAME, if there is one.
func viaPath(r *http.Request) (path, via string) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/via/")
	if !ok {
		return r.URL.Path, ""
	}
	via, path, _ = strings.Cut(rest, "/")
	return "/" + path, via
}

// heldUpdate is an update the fake holds until an offset confirms it.
type heldUpdate struct {
	id  int64
	raw string
}

// chatBucket is one chat's token bucket: three messages, one more a second.
type chatBucket struct {
	tokens float64
	at     time.Time
}

// rateWindow is the wait a 429 asked for, from when its answer was written.
type rateWindow struct{ from, until time.Time }

const (
	// chatBurst and perChat are Telegram's pace per private chat; chatJitter is
	// how early a message may come before its chat has a whole token, since
	// the network moves each message a few milliseconds either way.
	chatBurst  = 3
	perChat    = time.Second
	chatJitter = 50 * time.Millisecond
	perGroup   = 20
	// inFlightGrace is how long after a 429 was written a request counts as
	// one the bot sent before it could read the 429, rather than as ignoring it.
	inFlightGrace = 20 * time.Millisecond
)

func newCrashBotAPI(t *testing.T, limit int) *crashBotAPI {
	f := &crashBotAPI{limit: limit, delivered: map[int64][]string{}, answering: map[int64]int{}, buckets: map[int64]*chatBucket{},
		groups: map[int64][]time.Time{}, arrived: make(chan struct{}), served: map[int64]int{},
		handedOut: make(chan struct{}, 1)}
	f.Server = httptest.NewUnstartedServer(f)
	f.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.mu.Lock()
			f.conns++
			f.mu.Unlock()
		}
	}
	f.Start()
	t.Cleanup(func() {
		f.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		assert.Empty(t, f.violations, "requests inside a retry_after")
	})
	return f
}

func (f *crashBotAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	method := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	w.Header().Set("Content-Type", "application/json")
	if path, _ := viaPath(r); path != "/bot"+crashToken+"/"+method {
		f.fail(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	f.checkWindows(method, at)
	switch method {
	case "getMe":
		io.WriteString(w, `{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"m","username":"mobilise_test_bot"}}`)
	case "setMyCommands", "deleteMyCommands", "deleteWebhook", "answerCallbackQuery":
		io.WriteString(w, `{"ok":true,"result":true}`)
	case "getUpdates":
		f.getUpdates(w, r)
	case "sendMessage":
		f.sendMessage(w, r)
	case "editMessageText":
		f.editMessageText(w, r)
	case "sendPhoto":
		f.sendPhoto(w, r)
	case "setWebhook":
		f.setWebhook(w, r)
	default:
		f.mu.Lock()
		f.unknown = append(f.unknown, method)
		f.mu.Unlock()
		f.fail(w, http.StatusNotFound, "Not Found")
	}
}

// checkWindows records a request that came while a 429's retry_after ran.
func (f *crashBotAPI) checkWindows(method string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, w := range f.windows {
		if at.Before(w.from) || !at.Before(w.until) {
			continue
		}
		if at.Sub(w.from) < inFlightGrace {
			f.inFlight++
			return
		}
		f.violations = append(f.violations, fmt.Sprintf("%s %v into a retry_after of %v", method,
			at.Sub(w.from).Round(time.Millisecond), w.until.Sub(w.from).Round(time.Second)))
		return
	}
}

// push queues updates for getUpdates and wakes a waiting long poll.
func (f *crashBotAPI) push(updates ...heldUpdate) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates = append(f.updates, updates...)
	close(f.arrived)
	f.arrived = make(chan struct{})
}

// pending is how many updates the fake still holds, unconfirmed.
func (f *crashBotAPI) pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.updates)
}

// getUpdates answers a long poll: the updates from the offset on, or, after
// half a second without any, none.
func (f *crashBotAPI) getUpdates(w http.ResponseWriter, r *http.Request) {
	var q struct {
		Offset int64 `json:"offset"`
		Limit  int   `json:"limit"`
	}
	if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
		f.fail(w, http.StatusBadRequest, "Bad Request: "+err.Error())
		return
	}
	deadline := time.NewTimer(500 * time.Millisecond)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		// an offset confirms every update below it: Telegram forgets them
		f.updates = slices.DeleteFunc(f.updates, func(u heldUpdate) bool { return u.id < q.Offset })
		batch := f.updates[:min(max(q.Limit, 1), len(f.updates))]
		raws := make([]string, len(batch))
		for i, u := range batch {
			raws[i] = u.raw
			f.served[u.id]++
		}
		arrived := f.arrived
		if len(raws) == 0 {
			f.polling++
		}
		f.mu.Unlock()
		if len(raws) > 0 {
			fmt.Fprintf(w, `{"ok":true,"result":[%s]}`, strings.Join(raws, ","))
			w.(http.Flusher).Flush()
			select {
			case f.handedOut <- struct{}{}:
			default:
			}
			return
		}
		var done bool
		select {
		case <-arrived:
		case <-deadline.C:
			io.WriteString(w, `{"ok":true,"result":[]}`)
			done = true
		case <-r.Context().Done():
			done = true
		}
		f.mu.Lock()
		f.polling--
		f.mu.Unlock()
		if done {
			return
		}
	}
}

func (f *crashBotAPI) fail(w http.ResponseWriter, code int, description string) {
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"ok":false,"error_code":%d,"description":%q}`, code, description)
}

// form reads a call's chat_id and text.
func form(r *http.Request) (chat int64, text string, err error) {
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		return 0, "", err
	}
	chat, err = strconv.ParseInt(r.FormValue("chat_id"), 10, 64)
	return chat, r.FormValue("text"), err
}

// overRate says whether a message to chat at now passes a rate, and if so
// the retry_after to answer; called with f.mu held. A message that passes
// none is counted against them all.
func (f *crashBotAPI) overRate(chat int64, now time.Time) time.Duration {
	if f.throttleNext > 0 {
		d := f.throttleNext
		f.throttleNext = 0
		return d
	}
	if len(f.accepted) >= f.limit && now.Sub(f.accepted[len(f.accepted)-f.limit]) < time.Second {
		return time.Second
	}
	var b *chatBucket
	if chat < 0 {
		if times := f.groups[chat]; len(times) >= perGroup && now.Sub(times[len(times)-perGroup]) < time.Minute {
			return times[len(times)-perGroup].Add(time.Minute).Sub(now).Truncate(time.Second) + time.Second
		}
	} else {
		b = f.buckets[chat]
		if b == nil {
			b = &chatBucket{tokens: chatBurst, at: now}
			f.buckets[chat] = b
		}
		b.tokens = min(chatBurst, b.tokens+float64(now.Sub(b.at))/float64(perChat))
		b.at = now
		if short := 1 - b.tokens; short > float64(chatJitter)/float64(perChat) {
			return max(time.Second, time.Duration(short*float64(perChat)).Truncate(time.Second)+time.Second)
		}
	}
	if b != nil {
		b.tokens--
	}
	if chat < 0 {
		f.groups[chat] = append(f.groups[chat], now)
	}
	f.accepted = append(f.accepted, now)
	if len(f.accepted) > 2*f.limit {
		f.accepted = append(f.accepted[:0], f.accepted[len(f.accepted)-f.limit:]...)
	}
	return 0
}

// tooManyRequests answers 429 and opens the wait it asks for.
func (f *crashBotAPI) tooManyRequests(w http.ResponseWriter, retryAfter time.Duration) {
	secs := int(retryAfter / time.Second)
	w.WriteHeader(http.StatusTooManyRequests)
	fmt.Fprintf(w, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after %d","parameters":{"retry_after":%d}}`, secs, secs)
	w.(http.Flusher).Flush()
	from := time.Now()
	f.mu.Lock()
	f.windows = append(f.windows, rateWindow{from: from, until: from.Add(retryAfter)})
	f.mu.Unlock()
}

func (f *crashBotAPI) sendMessage(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.sending++
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.sending--
		f.mu.Unlock()
	}()
	chat, text, err := form(r)
	if err != nil {
		f.fail(w, http.StatusBadRequest, "Bad Request: "+err.Error())
		return
	}
	now := time.Now()
	f.mu.Lock()
	if wait := f.overRate(chat, now); wait > 0 {
		f.tooMany++
		f.mu.Unlock()
		f.tooManyRequests(w, wait)
		return
	}
	f.delivered[chat] = append(f.delivered[chat], text)
	_, via := viaPath(r)
	f.sent = append(f.sent, crashMessage{chat: chat, text: text, at: now, via: via})
	if chat == crashCoordinator {
		f.coordinator = text
	}
	f.nextID++
	id := f.nextID
	f.answering[chat]++
	f.mu.Unlock()
	time.Sleep(time.Duration(20+rand.IntN(31)) * time.Millisecond)
	fmt.Fprintf(w, `{"ok":true,"result":{"message_id":%d,"date":0,"chat":{"id":%d,"type":"private"}}}`, id, chat)
	f.mu.Lock()
	f.answering[chat]--
	f.mu.Unlock()
}

// answeringTo is how many messages to the chats were delivered and not yet
// answered to the bot.
func (f *crashBotAPI) answeringTo(chats map[int64]string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for chat := range chats {
		n += f.answering[chat]
	}
	return n
}

func (f *crashBotAPI) editMessageText(w http.ResponseWriter, r *http.Request) {
	chat, text, err := form(r)
	id, idErr := strconv.Atoi(r.FormValue("message_id"))
	if err = errors.Join(err, idErr); err != nil {
		f.fail(w, http.StatusBadRequest, "Bad Request: "+err.Error())
		return
	}
	f.mu.Lock()
	if chat == crashCoordinator {
		f.coordinator = text
	}
	f.mu.Unlock()
	fmt.Fprintf(w, `{"ok":true,"result":{"message_id":%d,"date":0,"chat":{"id":%d,"type":"private"}}}`, id, chat)
}

// tally is what the recipients have received so far.
type tally struct {
	messages    int // to recipients, counting repeats
	reached     int // recipients with at least one message
	twice       int // recipients with exactly two
	more        int // recipients with three or more
	sending     int
	tooMany     int
	conns       int
	coordinator string
	unknown     []string
}

func (f *crashBotAPI) tally(recipients map[int64]string) tally {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := tally{sending: f.sending, tooMany: f.tooMany, conns: f.conns, coordinator: f.coordinator, unknown: f.unknown}
	for chat := range recipients {
		got := len(f.delivered[chat])
		n.messages += got
		switch {
		case got == 1:
			n.reached++
		case got == 2:
			n.reached++
			n.twice++
		case got > 2:
			n.reached++
			n.more++
		}
	}
	return n
}

// wrongTexts lists the recipients who received another text than the one in
// their language.
func (f *crashBotAPI) wrongTexts(recipients map[int64]string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var wrong []string
	for chat, lang := range recipients {
		want := crashTextAR
		if lang == "en" {
			want = crashTextEN
		}
		for _, text := range f.delivered[chat] {
			if text != want {
				wrong = append(wrong, fmt.Sprintf("%d (%s): %q", chat, lang, text))
			}
		}
	}
	return wrong
}

// crashSetup is a data directory holding a queued broadcast to n people.
type crashSetup struct {
	data        string
	broadcastID uint64
	// recipients maps each recipient's chat ID to their language.
	recipients map[int64]string
}

// prepareBroadcast creates n consenting contacts, half Arabic and half
// English, and the coordinator, then queues a broadcast to the n.
func prepareBroadcast(t *testing.T, n int) crashSetup {
	t.Helper()
	return prepareBroadcastWith(t, n, nil)
}

// prepareBroadcastWith is prepareBroadcast for a broadcast that carries
// poster, kept in the data directory's media directory, if not nil.
func prepareBroadcastWith(t *testing.T, n int, poster []byte) crashSetup {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	st, err := store.Open(filepath.Join(data, "mobilise.db"))
	require.NoError(t, err)
	// a bulk load: the commits need not wait for the disk, Sync below makes it durable
	st.DB().NoSync = true
	var media *store.Media
	if poster != nil {
		files, err := store.OpenMediaFiles(store.MediaDir(filepath.Join(data, "mobilise.db")), 0)
		require.NoError(t, err)
		media, err = files.Put(bytes.NewReader(poster), "walk.png")
		require.NoError(t, err)
	}
	setup := seedBroadcast(t, st, n, media)
	setup.data = data
	require.NoError(t, st.DB().Sync())
	require.NoError(t, st.Close())
	return setup
}

// broadcastSeeder is what seedBroadcast needs of a store: the bbolt file
// or PostgreSQL.
type broadcastSeeder interface {
	EnsureContact(ctx context.Context, addr bot.Address, name, lang string) (*store.Contact, bool, error)
	UpdateContact(ctx context.Context, id uint64, fn func(*store.Contact) error) (*store.Contact, error)
	CreateBroadcast(ctx context.Context, b *store.Broadcast) error
	QueueBroadcast(ctx context.Context, id uint64, entries []store.OutboxEntry) error
}

// seedBroadcast creates in st n consenting contacts, half Arabic and half
// English, and the coordinator, then queues an approved broadcast to the n
// carrying media, if not nil. The setup it returns has no data directory.
func seedBroadcast(t *testing.T, st broadcastSeeder, n int, media *store.Media) crashSetup {
	t.Helper()
	coord, _, err := st.EnsureContact(context.Background(), bot.MustParseAddress(fmt.Sprintf("telegram:%d", crashCoordinator)), "Coordinator", "en")
	require.NoError(t, err)
	_, err = st.UpdateContact(context.Background(), coord.ID, func(c *store.Contact) error {
		c.Role, c.Consent = store.RoleCoordinator, true
		return nil
	})
	require.NoError(t, err)

	setup := crashSetup{recipients: make(map[int64]string, n)}
	entries := make([]store.OutboxEntry, n)
	// EnsureContact batches concurrent calls into shared commits
	const workers = 8
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n && errs[w] == nil; i += workers {
				entries[i], errs[w] = consentingContact(st, i)
			}
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	for i, e := range entries {
		chat, err := strconv.ParseInt(e.To.ID, 10, 64)
		require.NoError(t, err)
		setup.recipients[chat] = e.Lang
		entries[i].Media = media
	}

	b := &store.Broadcast{TextAR: crashTextAR, TextEN: crashTextEN, Audience: store.Audience{Kind: store.AudienceEveryone}, CreatedBy: coord.ID,
		ApprovedBy: coord.ID, Media: media}
	require.NoError(t, st.CreateBroadcast(context.Background(), b))
	require.NoError(t, st.QueueBroadcast(context.Background(), b.ID, entries))
	setup.broadcastID = b.ID
	return setup
}

// consentingContact creates the i-th recipient, Arabic for even i and
// English for odd, and returns their copy of the broadcast.
func consentingContact(st broadcastSeeder, i int) (store.OutboxEntry, error) {
	addr, lang, text := fmt.Sprintf("telegram:%d", firstRecipient+i), "ar", crashTextAR
	if i%2 == 1 {
		lang, text = "en", crashTextEN
	}
	c, _, err := st.EnsureContact(context.Background(), bot.MustParseAddress(addr), fmt.Sprintf("person %d", i), lang)
	if err != nil {
		return store.OutboxEntry{}, err
	}
	_, err = st.UpdateContact(context.Background(), c.ID, func(c *store.Contact) error {
		c.Consent, c.ConsentAt = true, time.Now().UTC()
		return nil
	})
	return store.OutboxEntry{Channel: "telegram", To: bot.MustParseAddress(addr), ContactID: c.ID, Text: text, Lang: lang, Kind: "broadcast"}, err
}

// broadcastState opens the store of a stopped bot and returns the broadcast
// and the number of messages still in the outbox.
func broadcastState(t *testing.T, s crashSetup) (*store.Broadcast, int) {
	t.Helper()
	st, err := store.Open(filepath.Join(s.data, "mobilise.db"))
	require.NoError(t, err)
	defer func() { require.NoError(t, st.Close()) }()
	require.NoError(t, st.Check(), "the database is sound")
	return broadcastLeft(t, st, s.broadcastID)
}

// broadcastReader is what broadcastLeft needs of a store: the bbolt file
// or PostgreSQL.
type broadcastReader interface {
	Broadcast(ctx context.Context, id uint64) (*store.Broadcast, error)
	PendingOutbox(ctx context.Context, channel bot.ChannelName, bulk bool, after uint64, limit int) ([]store.OutboxEntry, error)
}

// broadcastLeft returns the broadcast id in st and the number of its
// messages still in the outbox, which must hold nothing else but its
// progress report.
func broadcastLeft(t *testing.T, st broadcastReader, id uint64) (*store.Broadcast, int) {
	t.Helper()
	b, err := st.Broadcast(context.Background(), id)
	require.NoError(t, err)
	left, reports := 0, 0
	for _, bulk := range []bool{true, false} {
		var after uint64
		for {
			page, err := st.PendingOutbox(context.Background(), bot.Telegram, bulk, after, 500)
			require.NoError(t, err)
			if len(page) == 0 {
				break
			}
			for _, e := range page {
				switch {
				case e.BroadcastID == id:
					left++
				case e.StatusOf == id:
					reports++
				default:
					t.Errorf("an unexpected message in the outbox: %+v", e)
				}
				after = e.ID
			}
		}
	}
	// a progress report not yet sent is brought up to date, not followed by another
	assert.LessOrEqual(t, reports, 1, "progress reports waiting")
	return b, left
}

// botProcess is one run of the program.
type botProcess struct {
	cmd    *exec.Cmd
	logs   string // file holding its stderr
	exited chan struct{}
	err    error // from Wait, once exited is closed
}

// startBot runs the program on the setup's data directory against the fake.
func startBot(t *testing.T, s crashSetup, api *crashBotAPI, paid bool, run int) *botProcess {
	t.Helper()
	args := []string{"--quiet-hours", "off", "--log-level", "warn"}
	if paid {
		args = append(args, "--telegram-paid-broadcasts")
	}
	return startProcess(t, fmt.Sprint(run), args,
		"TELEGRAM_TOKEN="+crashToken, "TELEGRAM_API_URL="+api.URL, "MOBILISE_DATA="+s.data)
}

// startProcess runs the program with args and env as its whole
// environment (only what the test means: not the MOBILISE_* of whoever
// runs it), its stderr in a log file named by name, killed when the test
// ends if it still runs.
func startProcess(t *testing.T, name string, args []string, env ...string) *botProcess {
	t.Helper()
	logs, err := os.Create(filepath.Join(t.TempDir(), "stderr-"+name+".log"))
	require.NoError(t, err)
	defer logs.Close()
	cmd := exec.Command(mobiliseBinary(t), args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	p := &botProcess{cmd: cmd, logs: logs.Name(), exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// stderr returns what the process wrote.
func (p *botProcess) stderr() string {
	out, err := os.ReadFile(p.logs)
	if err != nil {
		return err.Error()
	}
	return string(out)
}

// stop sends sig and returns the exit code, -1 for death by a signal.
func (p *botProcess) stop(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(sig))
	select {
	case <-p.exited:
	case <-time.After(40 * time.Second):
		t.Fatalf("the bot did not exit after %v; its log:\n%s", sig, p.stderr())
	}
	var exit *exec.ExitError
	if p.err != nil && !errors.As(p.err, &exit) {
		t.Fatalf("waiting for the bot: %v", p.err)
	}
	return p.cmd.ProcessState.ExitCode()
}

// waitFor polls cond until it holds, failing after timeout or, if p is not
// nil, when the bot exits.
func waitFor(t *testing.T, p *botProcess, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	var exited <-chan struct{}
	logs := func() string { return "" }
	if p != nil {
		exited, logs = p.exited, p.stderr
	}
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-exited:
			t.Fatalf("the bot exited (%v) before %s; its log:\n%s", p.err, what, logs())
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; the bot's log:\n%s", timeout, what, logs())
		}
	}
}

// doneReport is the coordinator's final report of a broadcast that reached everyone.
func doneReport(t *testing.T, id uint64, sent int) string {
	return catalog(t).Text("en", messages.BroadcastDone, map[string]any{
		"ID": messages.FormatID("en", id), "Sent": messages.FormatNumber("en", sent),
		"Failed": messages.FormatNumber("en", 0), "Blocked": messages.FormatNumber("en", 0),
	})
}

// finish runs the bot until the broadcast is done and reported, then stops it cleanly.
func finish(t *testing.T, s crashSetup, api *crashBotAPI, paid bool, run int) {
	t.Helper()
	p := startBot(t, s, api, paid, run)
	n := len(s.recipients)
	report := doneReport(t, s.broadcastID, n)
	waitFor(t, p, 2*time.Minute, "every recipient's message and the final report", func() bool {
		got := api.tally(s.recipients)
		return got.reached == n && got.coordinator == report
	})
	require.Equal(t, 0, p.stop(t, syscall.SIGTERM), "a clean exit; the bot's log:\n%s", p.stderr())
	assert.NotContains(t, p.stderr(), "level=ERROR", "no error on the resumed run")
}

// ms rounds the durations logged.
const ms = time.Millisecond

// crashCase is one way of running a broadcast to be interrupted.
type crashCase struct {
	label string
	paid  bool
	// people is the audience, stopAfter how many messages the fake
	// receives before the bot is stopped.
	people, stopAfter int
}

func (c crashCase) limits() outbox.Limits {
	if c.paid {
		return outbox.TelegramPaidLimits()
	}
	return outbox.TelegramLimits()
}

// fakeLimit is the fake's own rate limit: Telegram's.
func (c crashCase) fakeLimit() int {
	if c.paid {
		return 1000
	}
	return 30
}

func TestBroadcastSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program")
	}
	cases := []crashCase{
		{label: "default limits", people: 600, stopAfter: 300},
		{label: "paid broadcasts", paid: true, people: 2000, stopAfter: 800},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			mobiliseBinary(t) // not timed
			start := time.Now()
			s := prepareBroadcast(t, tc.people)
			api := newCrashBotAPI(t, tc.fakeLimit())
			bound := tc.limits().Concurrency

			setUp := time.Now()
			p := startBot(t, s, api, tc.paid, 1)
			waitFor(t, p, time.Minute, fmt.Sprintf("%d messages", tc.stopAfter), func() bool {
				return api.tally(s.recipients).messages >= tc.stopAfter
			})
			assert.Equal(t, -1, p.stop(t, syscall.SIGKILL), "killed")
			// the fake has read every message the dead process got out
			waitFor(t, nil, 5*time.Second, "the fake to finish its answers", func() bool { return api.tally(s.recipients).sending == 0 })
			atKill := api.tally(s.recipients)
			b, left := broadcastState(t, s)
			sentAtKill := b.Sent
			require.Less(t, sentAtKill, tc.people, "the kill landed before the end of the broadcast")
			inFlight := atKill.messages - sentAtKill
			assert.GreaterOrEqual(t, inFlight, 0, "nothing is recorded sent that was not received")
			assert.LessOrEqual(t, inFlight, bound, "at most the sends in flight are unrecorded")
			assert.Equal(t, tc.people-sentAtKill, left, "every unrecorded message is still queued")

			killed := time.Now()
			finish(t, s, api, tc.paid, 2)
			finished := time.Now()
			got := api.tally(s.recipients)
			assert.Equal(t, tc.people, got.reached, "every recipient got the message")
			assert.Zero(t, got.more, "nobody got it three times")
			assert.Equal(t, inFlight, got.twice, "exactly the messages unrecorded at the kill were sent again")
			assert.LessOrEqual(t, got.twice, bound, "duplicates are bounded by the sends in flight")
			assert.Empty(t, api.wrongTexts(s.recipients), "each person got the text in their language")
			b, left = broadcastState(t, s)
			assert.Equal(t, store.BroadcastDone, b.Status)
			assert.Equal(t, tc.people, b.Total)
			assert.Equal(t, tc.people, b.Sent)
			assert.Zero(t, b.Failed+b.Blocked+b.Cancelled)
			assert.Zero(t, left, "the outbox is empty")
			t.Logf("%s: %d people; killed after %d messages, %d recorded; %d got it twice (bound %d); "+
				"%d 429s, %d connections, unknown methods %v; set-up %v, first run %v, second run %v",
				tc.label, tc.people, atKill.messages, sentAtKill, got.twice, bound, got.tooMany, got.conns, got.unknown,
				setUp.Sub(start).Round(ms), killed.Sub(setUp).Round(ms), finished.Sub(killed).Round(ms))
		})
	}
}

func TestBroadcastCleanStopHasNoDuplicates(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program")
	}
	tc := crashCase{label: "paid broadcasts", paid: true, people: 2000, stopAfter: 800}
	mobiliseBinary(t) // not timed
	start := time.Now()
	s := prepareBroadcast(t, tc.people)
	api := newCrashBotAPI(t, tc.fakeLimit())

	setUp := time.Now()
	p := startBot(t, s, api, tc.paid, 1)
	waitFor(t, p, time.Minute, fmt.Sprintf("%d messages", tc.stopAfter), func() bool {
		return api.tally(s.recipients).messages >= tc.stopAfter
	})
	require.Equal(t, 0, p.stop(t, syscall.SIGTERM), "a clean exit; the bot's log:\n%s", p.stderr())
	assert.NotContains(t, p.stderr(), "level=ERROR")
	atStop := api.tally(s.recipients)
	b, left := broadcastState(t, s)
	require.Less(t, b.Sent, tc.people, "the stop landed before the end of the broadcast")
	assert.Equal(t, atStop.messages, b.Sent, "every message received was recorded before the exit")
	assert.Equal(t, tc.people-b.Sent, left)

	stopped := time.Now()
	finish(t, s, api, tc.paid, 2)
	finished := time.Now()
	got := api.tally(s.recipients)
	assert.Equal(t, tc.people, got.reached, "every recipient got the message")
	assert.Zero(t, got.twice+got.more, "nobody got it twice")
	assert.Equal(t, tc.people, got.messages)
	assert.Empty(t, api.wrongTexts(s.recipients), "each person got the text in their language")
	b, left = broadcastState(t, s)
	assert.Equal(t, store.BroadcastDone, b.Status)
	assert.Equal(t, tc.people, b.Sent)
	assert.Zero(t, b.Failed+b.Blocked+b.Cancelled)
	assert.Zero(t, left, "the outbox is empty")
	t.Logf("%s: %d people; stopped after %d messages, all recorded; %d 429s, %d connections, unknown methods %v; "+
		"set-up %v, first run %v, second run %v", tc.label, tc.people, atStop.messages, got.tooMany, got.conns, got.unknown,
		setUp.Sub(start).Round(ms), stopped.Sub(setUp).Round(ms), finished.Sub(stopped).Round(ms))
}

// TestTelegramDispatchReusesConnections sends a paid broadcast and counts the
// TCP connections the fake Bot API accepted: the sends in flight should
// reuse a pool of at most about Limits.Concurrency connections.
func TestTelegramDispatchReusesConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program")
	}
	const people = 1000
	s := prepareBroadcast(t, people)
	api := newCrashBotAPI(t, 1000)
	finish(t, s, api, true, 1)
	got := api.tally(s.recipients)
	require.Equal(t, people, got.reached)
	assert.LessOrEqual(t, got.conns, outbox.TelegramPaidLimits().Concurrency+8,
		"connections for %d messages", got.messages)
}
