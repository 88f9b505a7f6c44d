package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestPartnersTokenCommands(t *testing.T) {
	in := newInstance(t, "https://partner.example/rss")
	ctx := context.Background()
	issue := func() (int, string) { return in.command(ctx, "partners", "token", "issue", "wipk") }

	code, first := issue()
	if code != 0 {
		t.Fatalf("first issue exit code = %d", code)
	}
	if code, _ := issue(); code != 0 {
		t.Fatalf("second issue exit code = %d", code)
	}
	if code, _ := issue(); code != 1 {
		t.Errorf("third issue exit code = %d, want 1 while two tokens are live", code)
	}
	code, out := in.command(ctx, "partners", "token", "list", "wipk")
	if code != 0 || !strings.Contains(out, "2 live token(s)") {
		t.Errorf("list = %d %q, want two live tokens", code, out)
	}
	id := strings.TrimPrefix(strings.Split(first, "\n")[1], "token id: ")
	code, out = in.command(ctx, "partners", "token", "revoke", "wipk", "--id", id)
	if code != 0 || !strings.Contains(out, "revoked 1 token(s)") {
		t.Errorf("revoke --id %s = %d %q, want one revoked", id, code, out)
	}
	code, out = in.command(ctx, "partners", "token", "revoke", "wipk")
	if code != 0 || !strings.Contains(out, "revoked 1 token(s)") {
		t.Errorf("revoke all = %d %q, want the remaining one revoked", code, out)
	}
	if code, _ := in.command(ctx, "partners", "token", "revoke", "wipk"); code != 1 {
		t.Errorf("revoking with no live token: exit code = %d, want 1", code)
	}
}

func TestPartnersAndItemsUsage(t *testing.T) {
	in := newInstance(t, "https://partner.example/rss")
	cases := []struct {
		name string
		args []string
	}{
		{"partners without action", []string{"partners", "token"}},
		{"unknown token action", []string{"partners", "token", "rotate", "wipk"}},
		{"unknown partner", []string{"partners", "token", "issue", "nobody"}},
		{"items without id", []string{"items", "retract"}},
		{"unknown items action", []string{"items", "show", "abc"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if code, _ := in.command(context.Background(), c.args...); code != 2 {
				t.Errorf("exit code = %d, want 2", code)
			}
		})
	}
	if code, _ := in.command(context.Background(), "items", "retract", "0123456789abcdef0123456789abcdef"); code != 1 {
		t.Errorf("retracting an unknown item: exit code = %d, want 1", code)
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"items", "retract", "zzz", "--partner", "wipk", "--config", in.config}, nil, &out, &errOut)
	if code != 1 {
		t.Errorf("retracting an unknown pushed item: exit code = %d, want 1", code)
	}
	if msg := errOut.String(); !strings.Contains(msg, `partner wipk has no item "zzz"`) {
		t.Errorf("retracting an unknown pushed item said %q, want the partner's own id named", msg)
	}
}
