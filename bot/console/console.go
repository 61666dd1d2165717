// Package console is a channel on standard input and output: a chat with the
// bot in the terminal for trying it out, and a scriptable one for tests.
//
// Each line read is a message from the current local user. A line ":as NAME"
// switches the user, so an admin and a citizen can take turns in one session;
// a line ":file PATH" sends the file at PATH, as a photo, a video or a
// document by its extension (the bot reads its type from the content);
// lines starting with "#" are comments. The bot's messages are printed with
// "< " before each line and menu options numbered, so answering with the
// number works as pressing the button would; a button that stands for a
// command, as a notice's do, shows the command to type instead. A message
// for another local user starts with "[→ NAME]", and so does the next one
// for the person typing, before they type again.
package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"mobilise/bot"
)

// Channel is the console channel.
type Channel struct {
	in   io.Reader
	echo bool
	now  func() time.Time
	log  *slog.Logger

	mu   sync.Mutex
	out  io.Writer
	user string
	seq  int
	// other is set once a message for someone else is printed, and
	// cleared by the next line typed: the next message for the person
	// typing is then marked as theirs, so it does not read as the end of
	// the other one.
	other bool
}

// Option configures a Channel.
type Option func(*Channel)

// WithUser sets who is typing at first; the default is "user".
func WithUser(id string) Option { return func(c *Channel) { c.user = id } }

// WithEcho prints each line read, prefixed "> ", so a transcript of a piped
// session reads as a conversation. Terminals show typed lines themselves.
func WithEcho(on bool) Option { return func(c *Channel) { c.echo = on } }

// WithClock sets the time stamped on messages.
func WithClock(now func() time.Time) Option { return func(c *Channel) { c.now = now } }

// WithLogger sets where the errors of handling a line are logged, besides
// being printed: the log is where the program watches for a damaged
// database, as it does for the other channels.
func WithLogger(log *slog.Logger) Option { return func(c *Channel) { c.log = log } }

// New returns a console channel reading in and writing out.
func New(in io.Reader, out io.Writer, opts ...Option) *Channel {
	c := &Channel{in: in, out: out, user: "user", now: time.Now, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Name returns "console".
func (c *Channel) Name() bot.ChannelName { return bot.Console }

// User returns who is typing now.
func (c *Channel) User() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.user
}

// Run reads lines until the input ends or ctx is cancelled. Give it a
// handler that returns once the answers are printed (the outbox's
// Dispatcher.Flushed), so a transcript keeps the conversation's order. Each line is
// handled before the next is read, so output keeps the conversation's order.
func (c *Channel) Run(ctx context.Context, h bot.Handler) error {
	lines := make(chan string)
	readErr := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(c.in)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		readErr <- sc.Err()
		close(lines)
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok {
				if err := <-readErr; err != nil {
					return fmt.Errorf("console: reading input: %w", err)
				}
				return nil
			}
			c.handleLine(ctx, h, line)
		}
	}
}

func (c *Channel) handleLine(ctx context.Context, h bot.Handler, line string) {
	trimmed := strings.TrimSpace(line)
	if strings.HasPrefix(trimmed, "#") {
		if c.echo {
			c.mu.Lock()
			fmt.Fprintln(c.out, trimmed)
			c.mu.Unlock()
		}
		return
	}
	if name, ok := strings.CutPrefix(trimmed, ":as "); ok && strings.TrimSpace(name) != "" {
		c.mu.Lock()
		c.user = strings.TrimSpace(name)
		if c.echo {
			fmt.Fprintf(c.out, ":as %s\n", c.user)
		}
		c.mu.Unlock()
		return
	}
	c.mu.Lock()
	user := c.user
	c.other = false
	path, file := strings.CutPrefix(trimmed, ":file ")
	if c.echo && file {
		fmt.Fprintf(c.out, ":file %s\n", strings.TrimSpace(path))
	} else if c.echo {
		fmt.Fprintf(c.out, "> %s\n", line)
	}
	c.mu.Unlock()
	in := bot.Incoming{
		From:       bot.Address{Channel: bot.Console, ID: user},
		Name:       user,
		Text:       line,
		ReceivedAt: c.now(),
	}
	if file {
		in.Text = ""
		in.Attachment, in.File = localFile(strings.TrimSpace(path))
	}
	err := h.HandleIncoming(ctx, in)
	if err != nil {
		c.log.Error("console: handling message", "error", err)
		c.mu.Lock()
		fmt.Fprintf(c.out, "! %v\n", err)
		c.mu.Unlock()
	}
}

// optionNumber writes a menu's option number in the digits of the
// message's language, as its text writes every other number.
func optionNumber(lang string, n int) string {
	s := strconv.Itoa(n)
	if lang != "ar" {
		return s
	}
	return strings.Map(func(r rune) rune { return '٠' + r - '0' }, s)
}

// Send prints msg. A message for another local user is marked with who it is for.
func (c *Channel) Send(_ context.Context, msg bot.Outgoing) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	if msg.To.ID != c.user || c.other {
		fmt.Fprintf(&b, "[→ %s]\n", msg.To.ID)
	}
	c.other = msg.To.ID != c.user
	for _, line := range strings.Split(msg.Text, "\n") {
		b.WriteString(strings.TrimRight("< "+line, " ") + "\n")
	}
	n := 0
	for _, row := range msg.Buttons {
		for _, btn := range row {
			if strings.HasPrefix(btn.Payload, "/") {
				// a button that stands for a command (a notice's): typing its
				// number would answer the menu the person was shown last
				fmt.Fprintf(&b, "<   • %s: %s\n", btn.Text, btn.Payload)
				continue
			}
			n++
			fmt.Fprintf(&b, "<   %s. %s\n", optionNumber(msg.Lang, n), btn.Text)
		}
	}
	if _, err := io.WriteString(c.out, b.String()); err != nil {
		return "", fmt.Errorf("console: writing: %w", err)
	}
	c.seq++
	return strconv.Itoa(c.seq), nil
}

// localFile is a file on this machine, sent from the terminal: its kind
// guessed from the extension, its bytes read when the bot fetches it.
func localFile(path string) (bot.Attachment, *bot.IncomingFile) {
	kind := bot.Document
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jpg", ".jpeg", ".png":
		kind = bot.Photo
	case ".mp4":
		kind = bot.Video
	}
	f := &bot.IncomingFile{Name: filepath.Base(path), Fetch: func(context.Context) (io.ReadCloser, error) {
		r, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("console: %w", err)
		}
		return r, nil
	}}
	if fi, err := os.Stat(path); err == nil {
		f.Size = fi.Size()
	}
	return kind, f
}
