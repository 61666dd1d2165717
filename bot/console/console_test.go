package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
)

func TestConsoleReadsLinesAsMessagesAndPrintsReplies(t *testing.T) {
	var out bytes.Buffer
	c := New(strings.NewReader("# a comment\nhello\n:as admin\n/pending\n"), &out, WithEcho(true))
	var got []bot.Incoming
	err := c.Run(context.Background(), bot.HandlerFunc(func(ctx context.Context, in bot.Incoming) error {
		got = append(got, in)
		_, err := c.Send(ctx, bot.Outgoing{To: in.From, Text: "line one\nline two", Buttons: [][]bot.Button{{{Text: "العربية"}, {Text: "English"}}}})
		require.NoError(t, err)
		_, err = c.Send(ctx, bot.Outgoing{To: bot.Address{Channel: "console", ID: "someone"}, Text: "a notice"})
		require.NoError(t, err)
		return nil
	}))
	require.NoError(t, err, "the end of input ends Run cleanly")
	require.Len(t, got, 2)
	assert.Equal(t, bot.Address{Channel: "console", ID: "user"}, got[0].From)
	assert.Equal(t, "hello", got[0].Text)
	assert.Equal(t, bot.Address{Channel: "console", ID: "admin"}, got[1].From, ":as switches who is typing")
	want := "# a comment\n> hello\n< line one\n< line two\n<   1. العربية\n<   2. English\n[→ someone]\n< a notice\n" +
		":as admin\n> /pending\n< line one\n< line two\n<   1. العربية\n<   2. English\n[→ someone]\n< a notice\n"
	assert.Equal(t, want, out.String())
}

func TestConsoleShowsCommandButtonsAsCommands(t *testing.T) {
	var out bytes.Buffer
	c := New(strings.NewReader(""), &out)
	_, err := c.Send(context.Background(), bot.Outgoing{To: bot.Address{Channel: "console", ID: "user"}, Text: "Broadcast no. 1 is waiting for your approval.",
		Buttons: [][]bot.Button{{{Text: "✅ Approve", Payload: "/approvebroadcast 1"}, {Text: "❌ Reject", Payload: "/rejectbroadcast 1"}}}})
	require.NoError(t, err)
	_, err = c.Send(context.Background(), bot.Outgoing{To: bot.Address{Channel: "console", ID: "user"}, Text: "Choose:", Lang: "ar",
		Buttons: [][]bot.Button{{{Text: "نعم", Payload: "m:ab12:0"}, {Text: "🔗 share", Payload: "/share"}, {Text: "لا", Payload: "m:ab12:1"}}}})
	require.NoError(t, err)
	want := "< Broadcast no. 1 is waiting for your approval.\n<   • ✅ Approve: /approvebroadcast 1\n<   • ❌ Reject: /rejectbroadcast 1\n" +
		"< Choose:\n<   ١. نعم\n<   • 🔗 share: /share\n<   ٢. لا\n"
	assert.Equal(t, want, out.String(), "a number typed answers the menu, so a command's button is shown as the command")
}

func TestConsoleMarksTheReplyAfterANoticeToSomeoneElse(t *testing.T) {
	var out bytes.Buffer
	c := New(strings.NewReader("2\n3\n"), &out, WithEcho(true), WithUser("sara"))
	n := 0
	err := c.Run(context.Background(), bot.HandlerFunc(func(ctx context.Context, in bot.Incoming) error {
		n++
		if n == 1 {
			_, err := c.Send(ctx, bot.Outgoing{To: bot.Address{Channel: "console", ID: "admin"}, Text: "Broadcast no. 1 is finished."})
			require.NoError(t, err)
		}
		_, err := c.Send(ctx, bot.Outgoing{To: in.From, Text: "Your answer: " + in.Text})
		require.NoError(t, err)
		return nil
	}))
	require.NoError(t, err)
	want := "> 2\n[→ admin]\n< Broadcast no. 1 is finished.\n[→ sara]\n< Your answer: 2\n" +
		"> 3\n< Your answer: 3\n"
	assert.Equal(t, want, out.String(), "after a message for someone else, the reply to the person typing says it is theirs")
}

func TestConsoleStopsWhenCancelled(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	c := New(r, io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, bot.HandlerFunc(func(context.Context, bot.Incoming) error { return nil })) }()
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// A line whose handling fails is logged as well as printed: the program
// finds a damaged database in the log, whichever channel met it.
func TestConsoleLogsTheErrorsOfHandling(t *testing.T) {
	var out, logged bytes.Buffer
	damaged := errors.New("database file is corrupt")
	c := New(strings.NewReader("/start\n"), &out, WithEcho(true),
		WithLogger(slog.New(slog.NewJSONHandler(&logged, nil))))
	err := c.Run(context.Background(), bot.HandlerFunc(func(context.Context, bot.Incoming) error {
		return fmt.Errorf("handling: %w", damaged)
	}))
	require.NoError(t, err)
	assert.Contains(t, out.String(), "! handling: database file is corrupt")
	var rec struct {
		Level string `json:"level"`
		Error string `json:"error"`
	}
	require.NoError(t, json.Unmarshal(logged.Bytes(), &rec), "one record: %s", logged.String())
	assert.Equal(t, "ERROR", rec.Level)
	assert.Equal(t, "handling: database file is corrupt", rec.Error)
}
