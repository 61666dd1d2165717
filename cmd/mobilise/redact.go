package main

import (
	"context"
	"log/slog"
	"regexp"
)

// phoneLike matches runs of seven or more digits: phone numbers, and the
// platform IDs that stand for a person.
var phoneLike = regexp.MustCompile(`\d{7,}`)

// redact masks all but the last two digits of every phone-like number.
func redact(s string) string {
	return phoneLike.ReplaceAllStringFunc(s, func(m string) string {
		return "…" + m[len(m)-2:]
	})
}

// redactingHandler keeps phone numbers out of the logs whatever a library or
// an error chain puts in them: error texts such as "sending to
// whatsapp:970599…" carry addresses.
type redactingHandler struct{ next slog.Handler }

func (h redactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h redactingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = redactAttr(a)
	}
	return redactingHandler{h.next.WithAttrs(red)}
}

func (h redactingHandler) WithGroup(name string) slog.Handler {
	return redactingHandler{h.next.WithGroup(name)}
}

func redactAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, redact(v.String()))
	case slog.KindGroup:
		g := v.Group()
		red := make([]any, len(g))
		for i, x := range g {
			red[i] = redactAttr(x)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, redact(err.Error()))
		}
		return slog.String(a.Key, redact(v.String()))
	}
	return a
}
