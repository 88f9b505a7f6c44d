package broker

import (
	"context"
	"fmt"
	"log/slog"
)

// serverLogger adapts slog to the logger interface of nats-server. Server
// notices (the start-up banner, listener addresses) are routine, so they go
// to Debug. Fatal messages go to Error: the library must never exit the
// process, which the stock server logger does on Fatalf.
type serverLogger struct {
	log *slog.Logger
	// fatal receives the first fatal message. nats-server reports a failed
	// start (port in use, JetStream store unusable) only through Fatalf and
	// then stops starting, so StartEmbedded watches this channel to fail
	// at once instead of waiting for its context to end.
	fatal chan string
}

func newServerLogger(log *slog.Logger) *serverLogger {
	return &serverLogger{log: log, fatal: make(chan string, 1)}
}

func (l *serverLogger) Noticef(format string, v ...any) { l.emit(slog.LevelDebug, format, v) }
func (l *serverLogger) Warnf(format string, v ...any)   { l.emit(slog.LevelWarn, format, v) }
func (l *serverLogger) Errorf(format string, v ...any)  { l.emit(slog.LevelError, format, v) }
func (l *serverLogger) Debugf(format string, v ...any)  { l.emit(slog.LevelDebug, format, v) }
func (l *serverLogger) Tracef(format string, v ...any)  { l.emit(slog.LevelDebug, format, v) }

func (l *serverLogger) emit(level slog.Level, format string, v []any) {
	// Formatting is skipped when the level is off, because the server
	// logs often at Debug. The server's logger interface carries no
	// context, so the background context is used.
	if !l.log.Enabled(context.Background(), level) {
		return
	}
	l.log.Log(context.Background(), level, "nats-server log", "server_message", fmt.Sprintf(format, v...))
}

func (l *serverLogger) Fatalf(format string, v ...any) {
	l.emit(slog.LevelError, format, v)
	select {
	case l.fatal <- fmt.Sprintf(format, v...):
	default:
	}
}
