package whatsapp

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"

	"mobilise/bot"
)

// waitTimeout bounds every wait on a channel in these tests.
const waitTimeout = 5 * time.Second

type sentMessage struct {
	To   types.JID
	Text string
}

type readReceipt struct {
	IDs          []types.MessageID
	Chat, Sender types.JID
}

type chatPresence struct {
	Chat  types.JID
	State types.ChatPresence
}

// fakeClient stands in for *whatsmeow.Client: it records calls, answers
// from fields, and lets a test emit events the way whatsmeow does.
type fakeClient struct {
	mu         sync.Mutex
	handlers   []whatsmeow.EventHandler
	connected  bool
	connectErr error
	sendErr    error
	onWhatsApp map[string]bool // "+970…" → registered; missing: not asked

	connects    chan struct{} // one value per Connect
	presences   chan chatPresence
	disconnects int
	sent        []sentMessage
	reads       []readReceipt
	waQueries   [][]string
	journal     *journal

	// media is the media server uploads go to; uploadErr fails them
	media       *fakeMediaServer
	uploadErr   error
	uploadCalls []uploadCall
	// messages are the whole messages sent, for their shape
	messages []*waE2E.Message
}

func newFakeClient() *fakeClient {
	return &fakeClient{
		connects:  make(chan struct{}, 16),
		presences: make(chan chatPresence, 64),
	}
}

var _ client = (*fakeClient)(nil)

func (f *fakeClient) Connect() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.connects <- struct{}{}
	if f.connectErr != nil {
		return f.connectErr
	}
	f.connected = true
	return nil
}

func (f *fakeClient) Disconnect() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.connected = false
	f.disconnects++
	f.journal.add("disconnect")
}

func (f *fakeClient) IsConnected() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.connected
}

func (f *fakeClient) AddEventHandler(h whatsmeow.EventHandler) uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handlers = append(f.handlers, h)
	return uint32(len(f.handlers))
}

func (f *fakeClient) RemoveEventHandler(id uint32) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id == 0 || int(id) > len(f.handlers) || f.handlers[id-1] == nil {
		return false
	}
	f.handlers[id-1] = nil
	return true
}

func (f *fakeClient) SendMessage(_ context.Context, to types.JID, msg *waE2E.Message, _ ...whatsmeow.SendRequestExtra) (whatsmeow.SendResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, sentMessage{To: to, Text: msg.GetConversation()})
	f.messages = append(f.messages, msg)
	if f.sendErr != nil {
		return whatsmeow.SendResponse{}, f.sendErr
	}
	return whatsmeow.SendResponse{ID: "3EB0FAKE"}, nil
}

func (f *fakeClient) MarkRead(_ context.Context, ids []types.MessageID, _ time.Time, chat, sender types.JID, _ ...types.ReceiptType) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads = append(f.reads, readReceipt{IDs: ids, Chat: chat, Sender: sender})
	return nil
}

func (f *fakeClient) SendChatPresence(_ context.Context, jid types.JID, state types.ChatPresence, _ types.ChatPresenceMedia) error {
	f.presences <- chatPresence{Chat: jid, State: state}
	return nil
}

func (f *fakeClient) IsOnWhatsApp(_ context.Context, phones []string) ([]types.IsOnWhatsAppResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waQueries = append(f.waQueries, phones)
	var out []types.IsOnWhatsAppResponse
	for _, p := range phones {
		if in, ok := f.onWhatsApp[p]; ok {
			out = append(out, types.IsOnWhatsAppResponse{Query: p, IsIn: in})
		}
	}
	return out, nil
}

// emit hands evt to the registered handlers, as whatsmeow's event loop does.
func (f *fakeClient) emit(evt any) {
	f.mu.Lock()
	hs := append([]whatsmeow.EventHandler(nil), f.handlers...)
	f.mu.Unlock()
	for _, h := range hs {
		if h != nil { // removed
			h(evt)
		}
	}
}

func (f *fakeClient) sentMessages() []sentMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentMessage(nil), f.sent...)
}

func (f *fakeClient) readReceipts() []readReceipt {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]readReceipt(nil), f.reads...)
}

// journal records the order of events across goroutines.
type journal struct {
	mu      sync.Mutex
	entries []string
}

func (j *journal) add(s string) {
	if j == nil {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries = append(j.entries, s)
}

func (j *journal) list() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string(nil), j.entries...)
}

// fakeLIDs is a LID → phone number map.
type fakeLIDs map[types.JID]types.JID

func (m fakeLIDs) GetPNForLID(_ context.Context, lid types.JID) (types.JID, error) {
	return m[lid], nil
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// recorder is a bot.Handler that passes every message on a channel.
type recorder chan bot.Incoming

func (r recorder) HandleIncoming(_ context.Context, in bot.Incoming) error {
	r <- in
	return nil
}

// running is a Channel whose Run is in progress.
type running struct {
	cancel   context.CancelFunc
	finished chan struct{}
	err      error
}

// start runs c with h and waits until it has connected.
func start(t *testing.T, c *Channel, f *fakeClient, h bot.Handler) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, finished: make(chan struct{})}
	go func() {
		r.err = c.Run(ctx, h)
		close(r.finished)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.finished:
		case <-time.After(waitTimeout):
			t.Error("Run did not return after cancel")
		}
	})
	receive(t, f.connects)
	return r
}

// wait waits for Run to return and returns its error.
func (r *running) wait(t *testing.T) error {
	t.Helper()
	receive(t, r.finished)
	return r.err
}

// stop cancels Run and returns its error.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	return r.wait(t)
}

// receive waits for one value on ch.
func receive[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		require.FailNow(t, "timed out waiting")
	}
	var zero T
	return zero
}
