package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dustin/go-humanize"

	"mobilise/store"
)

// corruptionGuard stops the bot when its database turns out to be damaged.
// Open refuses a damaged file; a page that goes bad while the bot runs is
// met by the first store operation that reads it, which returns an error
// wrapping store.ErrCorrupt (bbolt's panic turned into an error). Going on
// would meet the damage again on every message, and could write over it,
// so the guard cancels the run, and serve stops with a message that names
// the newest backup to restore instead of a stack trace.
//
// The bot's components log every error they do not return, so the guard
// finds the damage in the log records, wherever it happened: answering a
// message, sending from the outbox, firing a reminder.
type corruptionGuard struct {
	dataDir string
	cancel  context.CancelFunc

	mu    sync.Mutex
	first error // the first error that reported damage
}

// guardCorruption returns a context the guard cancels when damage is
// reported, and log with the guard watching its records.
func guardCorruption(ctx context.Context, dataDir string, log *slog.Logger) (context.Context, *slog.Logger, *corruptionGuard) {
	ctx, cancel := context.WithCancel(ctx)
	g := &corruptionGuard{dataDir: dataDir, cancel: cancel}
	return ctx, slog.New(corruptionHandler{next: log.Handler(), g: g}), g
}

// report stops the bot if err reports damage.
func (g *corruptionGuard) report(err error) {
	if !errors.Is(err, store.ErrCorrupt) {
		return
	}
	g.mu.Lock()
	if g.first == nil {
		g.first = err
	}
	g.mu.Unlock()
	g.cancel()
}

// stop releases the guard's context.
func (g *corruptionGuard) stop() { g.cancel() }

// explain returns the error the bot stops with: err, unless the database
// was found damaged, at start (err itself) or while running (an error the
// guard saw logged); then an error that says what happened and how to
// restore the newest backup.
func (g *corruptionGuard) explain(err error) error {
	g.report(err)
	g.mu.Lock()
	damage := g.first
	g.mu.Unlock()
	if damage == nil {
		return err
	}
	db := filepath.Join(g.dataDir, dbFileName)
	var msg strings.Builder
	if errors.Is(err, store.ErrCorrupt) {
		fmt.Fprintf(&msg, "%v\n", err) // Open's own words: the file was left untouched
	} else {
		fmt.Fprintf(&msg, "the database %s is damaged; the bot stopped rather than go on over the damage: %v\n", db, damage)
	}
	backup, ok := newestBackup(g.dataDir)
	if !ok {
		fmt.Fprintf(&msg, "No backup was found in %s (where `mobilise backup` writes without a FILE, and notes the FILE it was given):\n"+
			"restore a copy you keep elsewhere in place of %s, or check the file with `mobilise compact`.", backupsDir(g.dataDir), db)
		return errors.New(msg.String())
	}
	fmt.Fprintf(&msg, "The newest backup is %s, written %s (%s). To restore it:\n"+
		"  mv %s %s\n"+
		"  cp %s %s\n"+
		"then start the bot again (the copy must belong to the bot's user).",
		backup.path, backup.written.UTC().Format("2006-01-02 15:04 UTC"), humanize.Time(backup.written),
		shellQuote(db), shellQuote(db+".damaged"), shellQuote(backup.path), shellQuote(db))
	return errors.New(msg.String())
}

// shellQuote quotes s for a POSIX shell when it has more than safe characters.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,/:@%+=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// corruptionHandler hands every error value in a log record to the guard,
// then passes the record on. It sees warnings and errors even when the log
// level hides them.
type corruptionHandler struct {
	next slog.Handler
	g    *corruptionGuard
}

func (h corruptionHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.next.Enabled(ctx, l)
}

func (h corruptionHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		h.watch(a)
		return true
	})
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h corruptionHandler) WithAttrs(as []slog.Attr) slog.Handler {
	for _, a := range as {
		h.watch(a)
	}
	return corruptionHandler{next: h.next.WithAttrs(as), g: h.g}
}

func (h corruptionHandler) WithGroup(name string) slog.Handler {
	return corruptionHandler{next: h.next.WithGroup(name), g: h.g}
}

// watch reports the errors in a, groups included.
func (h corruptionHandler) watch(a slog.Attr) {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		for _, x := range v.Group() {
			h.watch(x)
		}
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			h.g.report(err)
		}
	}
}
