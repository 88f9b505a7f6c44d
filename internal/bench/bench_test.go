package bench

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/feedfarm"
	"github.com/syndic-network/syndic/internal/testenv"
)

// toyFarm starts a farm of 12 feeds with 10 items on 3 addresses: enough
// to run every round of the harness in a few seconds, so CI keeps it
// working without measuring anything.
func toyFarm(t *testing.T) *feedfarm.Farm {
	t.Helper()
	f, err := feedfarm.Start(feedfarm.Options{Feeds: 12, Items: 10, Hosts: 3, Gzip: true})
	if err != nil {
		t.Fatalf("starting feed farm: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := f.Close(ctx); err != nil {
			t.Errorf("closing feed farm: %v", err)
		}
	})
	return f
}

func TestRunToySize(t *testing.T) {
	redisURL, prefix := testenv.Redis(t)
	for _, tc := range []struct {
		name  string
		store Store
	}{
		{"embedded cache", Store{}},
		{"redis cache", Store{RedisURL: redisURL, RedisPrefix: prefix}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			farm := toyFarm(t)
			phases, err := Run(t.Context(), Options{
				Farm: LocalFarm(farm), Items: 10, Slide: 3, Store: tc.store, Dir: t.TempDir(),
			})
			if err != nil {
				t.Fatalf("running: %v", err)
			}
			if len(phases) != 3 {
				t.Fatalf("got %d phases, want 3", len(phases))
			}
			for _, p := range phases {
				if p.Seconds <= 0 {
					t.Errorf("%s: seconds = %v, want > 0", p.Name, p.Seconds)
				}
				if p.PeakRSS <= 0 {
					t.Errorf("%s: peak RSS = %d, want > 0", p.Name, p.PeakRSS)
				}
			}
			if got := phases[0].New; got != 120 {
				t.Errorf("cold round new items = %d, want 120", got)
			}
			if got := farm.Stats().NotModified; got != 12 {
				t.Errorf("farm answered %d requests with 304, want 12", got)
			}
		})
	}
}

func TestMeasureStagesToySize(t *testing.T) {
	farm := toyFarm(t)
	sc, err := MeasureStages(t.Context(), Options{Farm: LocalFarm(farm), Items: 10, Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("measuring stages: %v", err)
	}
	if sc.Items != 120 {
		t.Errorf("items = %d, want 120", sc.Items)
	}
	for name, cost := range map[string]float64{
		"fetch": sc.Fetch, "parse": sc.Parse, "publish": sc.Publish, "known": sc.Known,
	} {
		if cost <= 0 {
			t.Errorf("%s cost = %v, want > 0", name, cost)
		}
	}
	if sc.Sum() <= sc.Parse {
		t.Errorf("sum of stages %v is not above parse alone %v", sc.Sum(), sc.Parse)
	}
}

func TestRunServeToySize(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "syndic")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/syndic")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building syndic: %v\n%s", err, out)
	}
	farm := toyFarm(t)
	heap := filepath.Join(t.TempDir(), "heap.pb")
	rep, err := RunServe(t.Context(), ServeOptions{
		Options: Options{Farm: LocalFarm(farm), Items: 10, Dir: t.TempDir(), SyncAlways: false, HeapProfile: heap,
			FeedInterval: time.Second},
		Bin: bin, Connections: 2, Duration: 200 * time.Millisecond,
		RestartMemoryLimit: "200MiB", PollAfterRestart: 12,
	})
	if err != nil {
		t.Fatalf("running: %v", err)
	}
	t.Logf("report: %+v", rep)
	if rep.Items != 120 {
		t.Errorf("items = %d, want 120", rep.Items)
	}
	if rep.RSS <= 0 || rep.RestartRSS <= 0 {
		t.Errorf("RSS = %d, after restart %d; want both > 0", rep.RSS, rep.RestartRSS)
	}
	if rep.ReadySeconds <= 0 {
		t.Errorf("ready seconds = %v, want > 0", rep.ReadySeconds)
	}
	if len(rep.Loads) != 4 {
		t.Fatalf("got %d loads, want 4", len(rep.Loads))
	}
	for _, l := range rep.Loads {
		if l.Requests == 0 {
			t.Errorf("%s %d: no requests completed", l.Target, l.Status)
		}
	}
	if rep.RestartMemoryLimit != 200<<20 {
		t.Errorf("memory limit after restart = %d, want 200 MiB from -restart-memory-limit", rep.RestartMemoryLimit)
	}
	if rep.PollSeconds <= 0 || rep.PollRSS <= 0 || rep.PollPeakRSS < rep.PollRSS {
		t.Errorf("after the restart's poll: %v s, RSS %d, peak %d; want all > 0 and the peak at least the RSS",
			rep.PollSeconds, rep.PollRSS, rep.PollPeakRSS)
	}
	for _, suffix := range []string{".ingest", ".restart", ".poll"} {
		checkHeapProfile(t, heap+suffix)
	}
}

// checkHeapProfile fails the test unless path is a gzipped pprof profile
// of the heap: its string table names the inuse_space sample type.
func checkHeapProfile(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading heap profile: %v", err)
	}
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("heap profile %s is not gzipped: %v", path, err)
	}
	raw, err := io.ReadAll(gz)
	if err != nil {
		t.Fatalf("decompressing heap profile %s: %v", path, err)
	}
	if !bytes.Contains(raw, []byte("inuse_space")) {
		t.Errorf("heap profile %s (%d bytes) names no inuse_space samples", path, len(raw))
	}
}

// TestProfileRoundOnlyNamed checks that StartProfile runs once
// per Run, around the named round: the profile must contain the changed
// round's polls and none of the cold round's.
func TestProfileRoundOnlyNamed(t *testing.T) {
	farm := toyFarm(t)
	var events []string
	before := 0
	o := Options{
		Farm: LocalFarm(farm), Items: 10, Slide: 3, Dir: t.TempDir(),
		ProfileRound: "changed",
		StartProfile: func() (func() error, error) {
			st := farm.Stats()
			before = int(st.Requests)
			events = append(events, fmt.Sprintf("start after %d not modified", st.NotModified))
			return func() error {
				events = append(events, fmt.Sprintf("stop after %d requests", int(farm.Stats().Requests)-before))
				return nil
			}, nil
		},
	}
	if _, err := Run(t.Context(), o); err != nil {
		t.Fatalf("running: %v", err)
	}
	// The repoll round returned 304 for all 12 feeds before the changed
	// round started.
	want := []string{"start after 12 not modified", "stop after 12 requests"}
	if !slices.Equal(events, want) {
		t.Errorf("profile events = %q, want %q", events, want)
	}
}
