package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/nats-io/nats.go"
)

func TestRetryOnTimeout(t *testing.T) {
	errOther := errors.New("permission denied")
	tests := []struct {
		name      string
		errs      []error
		wantCalls int
		wantErr   error
	}{
		{"success at once", []error{nil}, 1, nil},
		{"timeout then success", []error{fmt.Errorf("ensuring stream: %w", context.DeadlineExceeded), nil}, 2, nil},
		{"no responder then success", []error{fmt.Errorf("reading tag authority: %w", nats.ErrNoResponders), nil}, 2, nil},
		{"other error at once", []error{errOther}, 1, errOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &App{Log: slog.New(slog.DiscardHandler)}
			calls := 0
			err := a.retryOnTimeout(context.Background(), "test step", func() error {
				err := tt.errs[calls]
				calls++
				return err
			})
			if calls != tt.wantCalls {
				t.Errorf("calls = %d, want %d", calls, tt.wantCalls)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
