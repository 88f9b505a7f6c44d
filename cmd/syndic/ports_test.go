package main

import (
	"context"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestRunBusyPortNamesKey checks that `syndic run` exits at once with an
// error naming the busy address, its configuration key and the variable
// that changes it, for each of its two listeners.
func TestRunBusyPortNamesKey(t *testing.T) {
	for _, tc := range []struct {
		key, env, name string
		field          *regexp.Regexp
	}{
		{"http.admin_addr", "SYNDIC_HTTP_ADMIN_ADDR", "admin_addr", regexp.MustCompile(`admin_addr: "[^"]+"`)},
		{"http.addr", "SYNDIC_HTTP_ADDR", "addr", regexp.MustCompile(`\baddr: "[^"]+"`)},
	} {
		t.Run(tc.key, func(t *testing.T) {
			busy, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatalf("listening: %v", err)
			}
			defer busy.Close()
			in := newInstance(t, "http://127.0.0.1:1/feed.xml")
			text, err := os.ReadFile(in.config)
			if err != nil {
				t.Fatalf("reading config: %v", err)
			}
			edited := tc.field.ReplaceAllString(string(text), tc.name+`: "`+busy.Addr().String()+`"`)
			if edited == string(text) {
				t.Fatalf("config has no %s field to replace:\n%s", tc.key, text)
			}
			if err := os.WriteFile(in.config, []byte(edited), 0o600); err != nil {
				t.Fatalf("writing config: %v", err)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var out, errOut strings.Builder
			code := run(ctx, []string{"run", "--config", in.config}, in.env, &out, &errOut)
			if code != 1 {
				t.Errorf("exit code = %d, want 1", code)
			}
			msg := errOut.String()
			for _, want := range []string{busy.Addr().String(), tc.key, tc.env, "address already in use"} {
				if !strings.Contains(msg, want) {
					t.Errorf("stderr lacks %q:\n%s", want, msg)
				}
			}
			if strings.Contains(msg, "context canceled") {
				t.Errorf("stderr blames a cancelled context instead of the port:\n%s", msg)
			}
		})
	}
}
