package whatsapp

import (
	"context"
	"fmt"
	"log/slog"

	waLog "go.mau.fi/whatsmeow/util/log"
)

// slogLogger adapts whatsmeow's printf-style waLog.Logger to slog, keeping
// each level: whatsmeow's Debugf lines (which include every XML node it
// sends) only show when slog is set to Debug.
type slogLogger struct {
	log    *slog.Logger
	module string
}

// newWALogger returns a waLog.Logger writing to log with its lines tagged
// module=<module>/<sub>…; a nil log discards.
func newWALogger(log *slog.Logger, module string) waLog.Logger {
	if log == nil {
		return waLog.Noop
	}
	return &slogLogger{log: log, module: module}
}

var _ waLog.Logger = (*slogLogger)(nil)

func (l *slogLogger) logf(level slog.Level, msg string, args []any) {
	ctx := context.Background()
	// formatting whatsmeow's debug output is costly: skip it when nobody reads it
	if !l.log.Enabled(ctx, level) {
		return
	}
	if len(args) > 0 {
		msg = fmt.Sprintf(msg, args...)
	}
	if l.module != "" {
		l.log.Log(ctx, level, msg, "module", l.module)
		return
	}
	l.log.Log(ctx, level, msg)
}

func (l *slogLogger) Errorf(msg string, args ...any) { l.logf(slog.LevelError, msg, args) }
func (l *slogLogger) Warnf(msg string, args ...any)  { l.logf(slog.LevelWarn, msg, args) }
func (l *slogLogger) Infof(msg string, args ...any)  { l.logf(slog.LevelInfo, msg, args) }
func (l *slogLogger) Debugf(msg string, args ...any) { l.logf(slog.LevelDebug, msg, args) }

// Sub returns a logger for a part of whatsmeow, named like "Client/Socket".
func (l *slogLogger) Sub(module string) waLog.Logger {
	if l.module != "" {
		module = l.module + "/" + module
	}
	return &slogLogger{log: l.log, module: module}
}
