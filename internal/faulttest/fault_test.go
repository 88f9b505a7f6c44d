// Package faulttest proves that Syndic loses and duplicates nothing while
// parts of a scaled-out deployment fail. It runs a three-node NATS
// cluster, Redis, two ingest, two serve and one digest process on
// loopback. It kills a NATS node and an ingest worker with SIGKILL and
// flushes the test's Redis keys. Then it checks the feed servers' output,
// the stream, the WebSub hub's deliveries (sent by the digest process
// only) and the digests a loopback SMTP server received.
package faulttest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/testenv"
)

// Shape of the run. 200 feeds polled every second or two and 20 items a
// second for about 30 seconds keep two cores busy but not saturated, and
// stay below the test channel's 1000 items.
const (
	farmFeeds      = 200
	publishEvery   = 50 * time.Millisecond
	convergeWithin = 2 * time.Minute
)

// expectedErrors are the error-level messages a fault may cause. Each must
// come within faultWindow of a fault.
var expectedErrors = []string{
	"configuration reload failed; keeping the previous configuration",
}

const faultWindow = 30 * time.Second

// baseURL is http.base_url of the deployment. The hub accepts topics under
// it, and digest links point to it.
const baseURL = "http://syndic.test"

// Digest shape. The digest runs once, at the first whole minute at least
// digestDelay after the configuration is written. Start-up takes about
// ten seconds and the faults forty, so the run falls near the end of the
// faults or soon after them, and covers hundreds of items.
const (
	digestDelay    = 45 * time.Second
	digestMaxItems = 200
)

// digestSubscribers are the confirmed subscribers of the digest "daily".
var digestSubscribers = []string{"ann@example.net", "ben@example.net", "cleo@example.net"}

type deployment struct {
	syndic, natsServer string
	dir                string
	natsPorts          []int
	nats               []*proc
	ingest, serve      []*proc
	digest             *proc
	serveAddrs         []string
	// admins maps process names to their admin addresses.
	admins map[string]string
	logs   *logBook
	mail   *mailbox
	// digestAt is the send time of the digest.
	digestAt time.Time
}

func TestNothingLostUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: starts a NATS cluster and four syndic processes; skipped with -short")
	}
	redisURL, redisPrefix := testenv.Redis(t)
	farm := newPartnerFarm(t, farmFeeds)
	d := startDeployment(t, farm.srv.URL, redisURL, redisPrefix)
	subscriber := newHubSubscriber(t)
	d.subscribe(t, d.serveAddrs[0], subscriber)
	t.Logf("digest send time %s", d.digestAt.Format(time.TimeOnly))

	stop := make(chan struct{})
	publishing := make(chan struct{})
	go func() {
		defer close(publishing)
		farm.keepPublishing(publishEvery, stop)
	}()
	var faults []time.Time
	fault := func(what string, f func()) {
		t.Logf("%s fault: %s", time.Now().Format(time.TimeOnly), what)
		faults = append(faults, time.Now())
		f()
	}

	waitDuration(8 * time.Second)
	fault("kill -9 nats-2", func() { d.nats[1].kill9(t) })
	waitDuration(4 * time.Second)
	fault("restart nats-2", func() { d.nats[1].start(t) })
	waitDuration(4 * time.Second)
	fault("kill -9 ingest-1", func() { d.ingest[0].kill9(t) })
	waitDuration(4 * time.Second)
	fault("restart ingest-1", func() { d.ingest[0].start(t) })
	waitDuration(3 * time.Second)
	fault("flush the test's redis keys", func() { flushPrefix(t, redisURL, redisPrefix) })
	waitDuration(8 * time.Second)
	close(stop)
	<-publishing

	published := farm.publishedURLs()
	outputs := d.waitForAll(t, published)
	streamDups, ingested := d.streamDuplicates(t)

	lost := 0
	for i, out := range outputs {
		for u := range published {
			switch out[u] {
			case 0:
				lost++
				t.Errorf("serve-%d: item %s missing from the channel", i+1, u)
			case 1:
			default:
				t.Errorf("serve-%d: item %s appears %d times", i+1, u, out[u])
			}
		}
	}
	if streamDups != 0 {
		t.Errorf("stream holds %d duplicate events, want 0", streamDups)
	}
	hub := checkHub(t, subscriber, published)
	d.checkHubSenders(t, hub)
	digest := d.checkDigests(t, published)
	checkErrorLogs(t, d.logs.all(), faults)
	fmt.Printf("fault test: published %d, ingested %d, duplicates %d, lost %d\n", len(published), ingested, streamDups, lost)
	fmt.Printf("fault test: hub deliveries %d, duplicates %d, lost %d\n", hub.deliveries, hub.duplicates, hub.lost)
	fmt.Printf("fault test: digests %d to %d subscribers, items %d, duplicates %d\n",
		digest.messages, len(digestSubscribers), digest.items, digest.duplicates)
}

// waitDuration waits for d while the cluster runs on its own. The faults
// are spaced in time on purpose, so there is no condition to poll for.
func waitDuration(d time.Duration) {
	<-time.After(d)
}

func startDeployment(t *testing.T, farmURL, redisURL, redisPrefix string) *deployment {
	t.Helper()
	d := &deployment{dir: t.TempDir(), admins: map[string]string{}, logs: &logBook{}, mail: newMailbox(t)}
	t.Cleanup(func() {
		if t.Failed() {
			d.dumpLogs(t)
		}
	})
	d.syndic, d.natsServer = buildBinaries(t)
	d.startNATS(t)
	cfg := d.writeConfig(t, farmURL, redisURL, redisPrefix)
	var admins []string
	for i := range 2 {
		admin := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		admins = append(admins, admin)
		d.admins[fmt.Sprintf("ingest-%d", i+1)] = admin
		d.ingest = append(d.ingest, d.syndicProc(t, fmt.Sprintf("ingest-%d", i+1), "ingest", cfg,
			"SYNDIC_HTTP_ADMIN_ADDR="+admin, fmt.Sprintf("SYNDIC_HTTP_ADDR=127.0.0.1:%d", freePort(t))))
	}
	for i := range 2 {
		addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		admin := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		name := fmt.Sprintf("serve-%d", i+1)
		d.serveAddrs = append(d.serveAddrs, addr)
		d.admins[name] = admin
		d.serve = append(d.serve, d.syndicProc(t, name, "serve", cfg,
			"SYNDIC_HTTP_ADDR="+addr, "SYNDIC_HTTP_ADMIN_ADDR="+admin))
	}
	// Starting one process at a time saves the half minute of start-up
	// retries that four processes racing to create the R3 stream and
	// buckets cost on a busy two-core machine.
	// Each role creates its own buckets, so processes start one at a time.
	for i, p := range d.ingest {
		p.start(t)
		waitReady(t, "http://"+admins[i]+"/readyz")
	}
	for i, p := range d.serve {
		p.start(t)
		waitReady(t, "http://"+d.serveAddrs[i]+"/readyz")
	}
	d.importSubscribers(t, cfg)
	digestAdmin := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	d.admins["digest"] = digestAdmin
	d.digest = d.syndicProc(t, "digest", "digest", cfg, "SYNDIC_HTTP_ADMIN_ADDR="+digestAdmin)
	d.digest.start(t)
	waitReady(t, "http://"+digestAdmin+"/readyz")
	return d
}

func (d *deployment) startNATS(t *testing.T) {
	t.Helper()
	var client, cluster []int
	for range 3 {
		client = append(client, freePort(t))
		cluster = append(cluster, freePort(t))
	}
	d.natsPorts = client
	for i := range 3 {
		var routes []int
		for j := range 3 {
			if j != i {
				routes = append(routes, cluster[j])
			}
		}
		name := fmt.Sprintf("nats-%d", i+1)
		p := &proc{name: name, bin: d.natsServer, logs: d.logs,
			args: natsNode(name, filepath.Join(d.dir, name), client[i], cluster[i], routes)}
		p.start(t)
		t.Cleanup(func() { p.stop(t) })
		d.nats = append(d.nats, p)
	}
	d.waitJetStream(t)
}

func (d *deployment) natsURL() string {
	var urls []string
	for _, p := range d.natsPorts {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", p))
	}
	return strings.Join(urls, ",")
}

// waitJetStream waits until the cluster can place a stream on all three
// servers, so the syndic processes can create theirs at start. A meta
// leader alone is not enough: until every server has joined, creating an
// R3 stream fails with "no suitable peers for placement".
func (d *deployment) waitJetStream(t *testing.T) {
	t.Helper()
	nc := connect(t, d.natsURL())
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("creating jetstream context: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := js.CreateStream(ctx, jetstream.StreamConfig{
			Name: "PLACEMENT_PROBE", Subjects: []string{"placement.probe"}, Replicas: 3, Storage: jetstream.MemoryStorage,
		})
		if err == nil {
			err = js.DeleteStream(ctx, "PLACEMENT_PROBE")
		}
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("jetstream not ready on the cluster after 30s: %v", err)
		}
		waitDuration(200 * time.Millisecond)
	}
}

// connect connects to the cluster, waiting for a server to come up.
func connect(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1),
		nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatalf("connecting to %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func (d *deployment) writeConfig(t *testing.T, farmURL, redisURL, redisPrefix string) string {
	t.Helper()
	d.digestAt = time.Now().UTC().Add(digestDelay).Truncate(time.Minute).Add(time.Minute)
	var b strings.Builder
	fmt.Fprintf(&b, `data_dir: %s
shutdown_grace: 5s
log: {level: info, format: json}
http: {base_url: %q}
nats: {url: %q, replicas: 3, max_age: 48h, duplicate_window: 10m}
redis: {url: %q, prefix: %q}
fetch: {allow_private_networks: true, min_interval: 1s, max_interval: 2s, per_host: 64, lease_ttl: 3s, timeout: 5s}
push: {enabled: false}
smtp: {host: 127.0.0.1, port: %d, tls: none}
digests_secret: %s
digests:
  - {id: daily, channel: all, schedule: "daily %s", timezone: UTC, max_items: %d, from: "Farm News <news@example.org>"}
channels:
  - {id: all, title: All, max_items: 1000}
partners:
  - id: farm
    name: Farm
    language: en
    timezone: UTC
    feeds:
`, filepath.Join(d.dir, "data"), baseURL, d.natsURL(), redisURL, redisPrefix,
		d.mail.port, strings.Repeat("d", 32), d.digestAt.Format("15:04"), digestMaxItems)
	for i := range farmFeeds {
		fmt.Fprintf(&b, "      - {id: f%d, url: %q, interval: 1s}\n", i, fmt.Sprintf("%s/f%d", farmURL, i))
	}
	path := filepath.Join(d.dir, "syndic.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatalf("writing config: %v", err)
	}
	return path
}

func (d *deployment) syndicProc(t *testing.T, name, command, cfg string, env ...string) *proc {
	t.Helper()
	p := &proc{name: name, bin: d.syndic, args: []string{command, "--config", cfg}, env: env, logs: d.logs}
	t.Cleanup(func() { p.stop(t) })
	return p
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 60s: %v", url, err)
		}
		waitDuration(200 * time.Millisecond)
	}
}

// dumpLogs writes the last log lines of every syndic process, which
// explain most failures.
func (d *deployment) dumpLogs(t *testing.T) {
	t.Helper()
	lines := d.logs.all()
	shown := map[string]int{}
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		if strings.HasPrefix(l.Process, "nats-") || shown[l.Process] >= 15 {
			continue
		}
		shown[l.Process]++
		t.Logf("%s: %s", l.Process, l.Raw)
	}
}
