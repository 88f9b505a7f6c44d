package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Syndic is a `syndic run` process started by StartSyndic.
type Syndic struct {
	Bin, Config string
	// BaseURL is the public listener, AdminURL the admin listener.
	BaseURL, AdminURL string
	cmd               *exec.Cmd
	log               *os.File
}

// freeAddr returns a 127.0.0.1 address with a port that was free a
// moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// WriteRunConfig writes a configuration for `syndic run` on urls into
// dir, with the HTTP listeners on free loopback ports, and returns its
// path with the listener URLs.
func WriteRunConfig(dir string, urls []string, o Options) (path, base, admin string, err error) {
	addr, err := freeAddr()
	if err != nil {
		return "", "", "", err
	}
	adminAddr, err := freeAddr()
	if err != nil {
		return "", "", "", err
	}
	if _, err := writeConfig(dir, urls, o); err != nil {
		return "", "", "", err
	}
	path = filepath.Join(dir, "syndic.yaml")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return "", "", "", fmt.Errorf("opening benchmark configuration: %w", err)
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "http: {addr: %q, base_url: %q, admin_addr: %q, admin_pprof: true}\n", addr, "http://"+addr, adminAddr)
	if err != nil {
		return "", "", "", fmt.Errorf("writing benchmark configuration: %w", err)
	}
	return path, "http://" + addr, "http://" + adminAddr, nil
}

// StartSyndic starts `bin run --config config`, logging to logPath, and
// returns once the process runs; WaitReady waits for /readyz.
func StartSyndic(bin, config, base, admin, logPath string) (*Syndic, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening syndic log: %w", err)
	}
	cmd := exec.Command(bin, "run", "--config", config)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	return &Syndic{Bin: bin, Config: config, BaseURL: base, AdminURL: admin, cmd: cmd, log: logFile}, nil
}

// WaitReady polls /readyz on the public listener until it returns 200
// and returns the time since the process started.
func (s *Syndic) WaitReady(ctx context.Context, started time.Time) (time.Duration, error) {
	err := pollUntil(ctx, 10*time.Millisecond, func() (bool, error) {
		resp, err := http.Get(s.BaseURL + "/readyz")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	return time.Since(started), err
}

// Metric returns the sum of every sample of the named Prometheus metric
// whose labels contain match, read from the admin listener.
func (s *Syndic) Metric(name, match string) (float64, error) {
	resp, err := http.Get(s.AdminURL + "/metrics")
	if err != nil {
		return 0, fmt.Errorf("reading metrics: %w", err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) || !strings.Contains(line, match) {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum, sc.Err()
}

// RSS returns the current and peak resident set size of the process in
// bytes, from /proc.
func (s *Syndic) RSS() (current, peak int64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	for line := range strings.Lines(string(data)) {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "VmRSS:":
			current = kb << 10
		case "VmHWM:":
			peak = kb << 10
		}
	}
	return current, peak
}

// WriteHeapProfile fetches a heap profile from the admin listener, after
// a garbage collection, and writes it to path.
func (s *Syndic) WriteHeapProfile(path string) error {
	resp, err := http.Get(s.AdminURL + "/debug/pprof/heap?gc=1")
	if err != nil {
		return fmt.Errorf("fetching heap profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetching heap profile: %s from %s/debug/pprof/heap", resp.Status, s.AdminURL)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading heap profile: %w", err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("writing heap profile: %w", err)
	}
	return nil
}

// Stop sends SIGTERM and waits for the process to exit.
func (s *Syndic) Stop() error {
	defer s.log.Close()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stopping syndic: %w", err)
	}
	err := s.cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return fmt.Errorf("syndic exited with %w", err)
	}
	return err
}

// pollUntil calls check every interval until it returns true or an
// error, or ctx ends.
func pollUntil(ctx context.Context, interval time.Duration, check func() (bool, error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		ok, err := check()
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
