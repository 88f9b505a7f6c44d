package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/syndic-network/syndic/internal/broker"
)

// TestSecondRunNamesTheLock starts `syndic run` on a data_dir whose lock
// and ports another run holds. The error must name the data_dir, the
// cause the user can act on, not the busy port.
func TestSecondRunNamesTheLock(t *testing.T) {
	in := newInstance(t, "http://127.0.0.1:9/feed.xml")
	dataDir := filepath.Join(filepath.Dir(in.config), "data")
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		t.Fatalf("creating data_dir: %v", err)
	}
	lock, err := broker.LockDataDir(dataDir)
	if err != nil {
		t.Fatalf("locking data_dir: %v", err)
	}
	defer lock.Unlock()
	raw, err := os.ReadFile(in.config)
	if err != nil {
		t.Fatalf("reading config: %v", err)
	}
	admin := regexp.MustCompile(`admin_addr: "([^"]+)"`).FindSubmatch(raw)
	if admin == nil {
		t.Fatalf("no admin_addr in config:\n%s", raw)
	}
	for _, addr := range []string{in.addr, string(admin[1])} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("holding %s: %v", addr, err)
		}
		defer ln.Close()
	}

	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"run", "--config", in.config}, nil, &out, &errOut)
	if code != 1 {
		t.Errorf("second run exited %d, want 1", code)
	}
	if msg := errOut.String(); !strings.Contains(msg, "is in use by another syndic run") || strings.Contains(msg, "address already in use") {
		t.Errorf("second run said %q, want the data_dir lock named and no busy port", msg)
	}
}

// TestHelpExitsZero checks that --help prints usage and succeeds.
func TestHelpExitsZero(t *testing.T) {
	for _, cmd := range []string{"run", "check-config", "poll", "digest"} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), []string{cmd, "--help"}, nil, &out, &errOut); code != 0 {
			t.Errorf("syndic %s --help exited %d, want 0; stderr:\n%s", cmd, code, errOut.String())
		}
		if !strings.Contains(errOut.String(), "-config") {
			t.Errorf("syndic %s --help printed no usage:\n%s", cmd, errOut.String())
		}
	}
}

func TestLocalBaseURLElsewhere(t *testing.T) {
	for _, tc := range []struct {
		addr, baseURL string
		want          bool
	}{
		{"127.0.0.1:8080", "http://127.0.0.1:8080", false},
		{"127.0.0.1:40445", "http://127.0.0.1:8080", true},
		{"127.0.0.1:40445", "http://localhost:8080/", true},
		{"127.0.0.1:80", "http://localhost", false},
		{"127.0.0.1:8080", "http://localhost", true},
		{"[::1]:8443", "https://[::1]:8443", false},
		{"127.0.0.1:8080", "https://news.example.org", false},
		{"0.0.0.0:8080", "http://192.0.2.10:80", false},
		{"127.0.0.1:8080", "not a url", false},
		{"127.0.0.1:0", "http://127.0.0.1:1", false},
	} {
		if got := localBaseURLElsewhere(tc.addr, tc.baseURL); got != tc.want {
			t.Errorf("localBaseURLElsewhere(%q, %q) = %t, want %t", tc.addr, tc.baseURL, got, tc.want)
		}
	}
}

// TestSubcommandHelpExitsZero checks --help on the commands that parse
// their actions or directory before their flags.
func TestSubcommandHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{
		{"backup", "--help"}, {"restore", "-h"}, {"feeds", "--help"},
		{"feeds", "status", "--help"}, {"partners", "token", "issue", "wipk", "--help"},
		{"items", "retract", "--help"},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, nil, &out, &errOut); code != 0 {
			t.Errorf("syndic %s exited %d, want 0; stderr:\n%s", strings.Join(args, " "), code, errOut.String())
		}
		if !strings.Contains(out.String()+errOut.String(), "Usage") && !strings.Contains(errOut.String(), "-config") {
			t.Errorf("syndic %s printed no usage:\n%s%s", strings.Join(args, " "), out.String(), errOut.String())
		}
	}
}

// TestCheckConfigSaysValid checks that check-config ends with a line that
// names the result, apart from the configuration it prints.
func TestCheckConfigSaysValid(t *testing.T) {
	in := newInstance(t, "http://127.0.0.1:9/feed.xml")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"check-config", "--config", in.config}, nil, &out, &errOut); code != 0 {
		t.Fatalf("check-config exited %d; stderr:\n%s", code, errOut.String())
	}
	if want := "the configuration is valid (partners: 1, feeds: 1, channels: 1)"; !strings.Contains(errOut.String(), want) {
		t.Errorf("check-config stderr = %q, want %q", errOut.String(), want)
	}
	if strings.Contains(out.String(), "valid") {
		t.Errorf("check-config stdout has the result line; want only the configuration:\n%s", out.String())
	}
}

func TestCheckConfigPositionalFile(t *testing.T) {
	in := newInstance(t, "http://127.0.0.1:9/feed.xml")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"check-config", in.config}, nil, &out, &errOut); code != 0 {
		t.Fatalf("check-config FILE exited %d; stderr:\n%s", code, errOut.String())
	}
	if want := "the configuration is valid"; !strings.Contains(errOut.String(), want) {
		t.Errorf("check-config FILE stderr = %q, want %q", errOut.String(), want)
	}

	errOut.Reset()
	if code := run(context.Background(), []string{"check-config", "--config", in.config, "other.yaml"}, nil, &out, &errOut); code != 2 {
		t.Errorf("check-config with --config and FILE exited %d, want 2", code)
	}
	if !strings.Contains(errOut.String(), "--config names the configuration file already") {
		t.Errorf("check-config with --config and FILE said %q, want the clash named", errOut.String())
	}

	errOut.Reset()
	if code := run(context.Background(), []string{"feeds", "status", in.config}, nil, &out, &errOut); code == 0 {
		t.Errorf("feeds status FILE exited 0, want a usage error")
	}
	if want := "name the configuration file with --config " + in.config; !strings.Contains(errOut.String(), want) {
		t.Errorf("feeds status FILE said %q, want %q", errOut.String(), want)
	}
}
