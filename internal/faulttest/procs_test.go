package faulttest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildBinaries builds syndic and nats-server into a temporary directory.
// nats-server comes from the module version in go.mod, so the cluster runs
// the same server code as the embedded one.
func buildBinaries(t *testing.T) (syndic, natsServer string) {
	t.Helper()
	dir := t.TempDir()
	syndic = filepath.Join(dir, "syndic")
	natsServer = filepath.Join(dir, "nats-server")
	for _, b := range []struct{ out, pkg string }{
		{syndic, "github.com/syndic-network/syndic/cmd/syndic"},
		{natsServer, "github.com/nats-io/nats-server/v2"},
	} {
		out, err := exec.Command("go", "build", "-o", b.out, b.pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("building %s: %v\n%s", b.pkg, err, out)
		}
	}
	return syndic, natsServer
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// logLine is one JSON log record of a child process.
type logLine struct {
	Process string
	Time    time.Time
	Level   string
	Msg     string
	Raw     string
}

// logBook collects the log lines of every child process.
type logBook struct {
	mu    sync.Mutex
	lines []logLine
}

func (b *logBook) add(l logLine) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, l)
}

func (b *logBook) all() []logLine {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]logLine(nil), b.lines...)
}

// proc is a child process that a test can kill and start again with the
// same arguments.
type proc struct {
	name string
	bin  string
	args []string
	env  []string
	logs *logBook

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func (p *proc) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", p.name, err)
	}
	done := make(chan struct{})
	go func() {
		p.collect(stderr)
		_ = cmd.Wait()
		close(done)
	}()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
}

// collect records every stderr line; JSON lines are parsed for level and
// message, other lines (nats-server's own log) are kept as they are.
func (p *proc) collect(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := logLine{Process: p.name, Time: time.Now(), Raw: sc.Text()}
		var rec struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) == nil {
			line.Level, line.Msg = rec.Level, rec.Msg
		}
		p.logs.add(line)
	}
}

// kill9 kills the process with SIGKILL and waits until it is gone.
func (p *proc) kill9(t *testing.T) {
	t.Helper()
	p.signal(t, syscall.SIGKILL)
}

// stop sends SIGTERM and waits until the process exits.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.signal(t, syscall.SIGTERM)
}

func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Errorf("%s did not exit within 30s of %s", p.name, sig)
	}
}

// natsNode returns the arguments of one server of a three-node cluster.
func natsNode(name, dir string, port, clusterPort int, routes []int) []string {
	var r []string
	for _, rp := range routes {
		r = append(r, "nats://127.0.0.1:"+strconv.Itoa(rp))
	}
	return []string{
		"-n", name, "-a", "127.0.0.1", "-p", strconv.Itoa(port),
		"-js", "-sd", dir,
		"--cluster_name", "fault", "--cluster", fmt.Sprintf("nats://127.0.0.1:%d", clusterPort),
		"--routes", strings.Join(r, ","),
	}
}
