package broker

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
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
func (l *serverLogger) Warnf(format string, v ...any) {
	level := slog.LevelWarn
	if len(v) == 1 && strings.HasSuffix(format, recoveryFormat) {
		if err, ok := v[0].(error); ok && err.Error() == priorStateError {
			// The stream's state file is older than its blocks, as after
			// every crash, and the server rebuilds it from the blocks.
			level = slog.LevelInfo
		}
	}
	l.emit(level, format, v)
}

// recoveryFormat ends the format, after "Filestore [<stream>] ", and
// priorStateError is the error with which nats-server v2.15 reports a
// stream whose state file it rebuilds after a crash (filestore.go).
const (
	recoveryFormat  = "Recovering stream state from index errored: %v"
	priorStateError = "prior state file"
)

func (l *serverLogger) Errorf(format string, v ...any) { l.emit(slog.LevelError, format, v) }
func (l *serverLogger) Debugf(format string, v ...any) { l.emit(slog.LevelDebug, format, v) }
func (l *serverLogger) Tracef(format string, v ...any) { l.emit(slog.LevelDebug, format, v) }

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
