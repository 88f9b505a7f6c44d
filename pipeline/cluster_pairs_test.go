package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// memFingerprints is an in-memory fingerprintStore that numbers records
// and delivers them to followers like the record log, for evaluating the
// decision rules on hundreds of pairs without a server.
type memFingerprints struct {
	mu        sync.Mutex
	vals      [][]byte
	followers []chan uint64
}

func newMemFingerprints() *memFingerprints {
	return &memFingerprints{}
}

// Append stores value at the next sequence, the first being 1.
func (m *memFingerprints) Append(_ context.Context, value []byte, _ string, _ time.Time) (uint64, error) {
	m.mu.Lock()
	m.vals = append(m.vals, value)
	seq := uint64(len(m.vals))
	followers := slices.Clone(m.followers)
	m.mu.Unlock()
	for _, ch := range followers {
		ch <- seq
	}
	return seq, nil
}

// Read returns the records at seqs.
func (m *memFingerprints) Read(_ context.Context, seqs []uint64) (map[uint64][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[uint64][]byte{}
	for _, seq := range seqs {
		if seq >= 1 && seq <= uint64(len(m.vals)) {
			out[seq] = m.vals[seq-1]
		}
	}
	return out, nil
}

// value returns the record at seq, nil when there is none.
func (m *memFingerprints) value(seq uint64) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	if seq < 1 || seq > uint64(len(m.vals)) {
		return nil
	}
	return m.vals[seq-1]
}

// FollowRecords delivers the records held, then each one appended later.
func (m *memFingerprints) FollowRecords(ctx context.Context, apply func(uint64, []byte, time.Time), loaded chan<- struct{}) (<-chan struct{}, time.Duration, error) {
	m.mu.Lock()
	last := uint64(len(m.vals))
	live := make(chan uint64, 4096)
	m.followers = append(m.followers, live)
	m.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for seq := uint64(1); seq <= last; seq++ {
			apply(seq, m.value(seq), time.Now())
		}
		close(loaded)
		for {
			select {
			case seq := <-live:
				apply(seq, m.value(seq), time.Now())
			case <-ctx.Done():
				return
			}
		}
	}()
	return done, 0, nil
}

type labelledItem struct {
	Partner    string    `json:"partner"`
	Language   string    `json:"language"`
	URL        string    `json:"url"`
	Title      string    `json:"title"`
	Body       string    `json:"body"`
	Image      string    `json:"image"`
	Alternates []string  `json:"alternates"`
	Published  time.Time `json:"published"`
}

type labelledPair struct {
	ID       string       `json:"id"`
	Category string       `json:"category"`
	Label    string       `json:"label"`
	A        labelledItem `json:"a"`
	B        labelledItem `json:"b"`
}

func loadPairs(t testing.TB) []labelledPair {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "pairs", "pairs.json"))
	if err != nil {
		t.Fatalf("reading labelled pairs: %v", err)
	}
	var pairs []labelledPair
	if err := json.Unmarshal(data, &pairs); err != nil {
		t.Fatalf("decoding labelled pairs: %v", err)
	}
	return pairs
}

// normalisedPairItem builds the item a feed of the pair's partner would
// give the pipeline.
func normalisedPairItem(t testing.TB, in labelledItem) *Item {
	t.Helper()
	var content strings.Builder
	for _, para := range strings.Split(in.Body, "\n\n") {
		content.WriteString("<p>" + para + "</p>")
	}
	it := &Item{
		URL: in.URL, Title: in.Title, Content: content.String(), Language: in.Language,
		Image: in.Image, Alternates: in.Alternates, Published: in.Published,
	}
	src := Source{Partner: in.Partner, Feed: "news", FeedURL: "https://" + in.Partner + ".example/feed"}
	if err := NormaliseItem(it, src, in.Published.Add(time.Hour)); err != nil {
		t.Fatalf("normalising %s: %v", in.URL, err)
	}
	return it
}

// groupedTogether ingests a then b into an empty clusterer and reports
// whether b joined a's cluster.
func groupedTogether(t testing.TB, p labelledPair) bool {
	t.Helper()
	ctx := context.Background()
	c := newClusterer(newMemFingerprints(), nil)
	a, b := normalisedPairItem(t, p.A), normalisedPairItem(t, p.B)
	fp, err := c.Assign(ctx, a)
	if err != nil {
		t.Fatalf("assigning %s: %v", p.ID, err)
	}
	if err := c.Record(ctx, a, fp); err != nil {
		t.Fatalf("recording %s: %v", p.ID, err)
	}
	if _, err := c.Assign(ctx, b); err != nil {
		t.Fatalf("assigning %s: %v", p.ID, err)
	}
	return b.ClusterID == a.ClusterID
}

type confusion struct{ tp, fp, fn, tn int }

func (c *confusion) add(same, grouped bool) {
	switch {
	case same && grouped:
		c.tp++
	case same:
		c.fn++
	case grouped:
		c.fp++
	default:
		c.tn++
	}
}

func (c confusion) precision() float64 { return ratio(c.tp, c.tp+c.fp) }
func (c confusion) recall() float64    { return ratio(c.tp, c.tp+c.fn) }

func ratio(n, d int) float64 {
	if d == 0 {
		return 1
	}
	return float64(n) / float64(d)
}

func TestClusterLabelledPairs(t *testing.T) {
	pairs := loadPairs(t)
	if len(pairs) < 400 {
		t.Fatalf("labelled pairs = %d, want at least 400", len(pairs))
	}
	var total confusion
	byCategory := map[string]*confusion{}
	for _, p := range pairs {
		grouped := groupedTogether(t, p)
		same := p.Label == "same"
		total.add(same, grouped)
		if byCategory[p.Category] == nil {
			byCategory[p.Category] = &confusion{}
		}
		byCategory[p.Category].add(same, grouped)
		if grouped != same {
			t.Logf("pair %s (%s, %s/%s): labelled %s, grouped %v", p.ID, p.Category, p.A.Language, p.B.Language, p.Label, grouped)
		}
	}
	t.Log(reportConfusion(total, byCategory))
	if got := total.precision(); got < 0.99 {
		t.Errorf("precision = %.3f, want at least 0.99", got)
	}
	if got := total.recall(); got < 0.9 {
		t.Errorf("recall = %.3f, want at least 0.9", got)
	}
}

func reportConfusion(total confusion, byCategory map[string]*confusion) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n| category | pairs | grouped | not grouped |\n| --- | --- | --- | --- |\n")
	names := make([]string, 0, len(byCategory))
	for name := range byCategory {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		c := byCategory[name]
		fmt.Fprintf(&b, "| %s | %d | %d | %d |\n", name, c.tp+c.fp+c.fn+c.tn, c.tp+c.fp, c.fn+c.tn)
	}
	fmt.Fprintf(&b, "tp=%d fp=%d fn=%d tn=%d precision=%.3f recall=%.3f",
		total.tp, total.fp, total.fn, total.tn, total.precision(), total.recall())
	return b.String()
}

func TestSharedLinkIsNoEvidence(t *testing.T) {
	tests := []struct {
		name   string
		link   string
		shared bool
	}{
		{"listing page flagged by the parser", "https://chamber.example/news/", true},
		{"site root page", "https://chamber.example/", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			c := newClusterer(newMemFingerprints(), nil)
			a := normalisedPairItem(t, labelledItem{Partner: "a", Language: "en", URL: tt.link, Title: "Fair opens", Body: "The fair opens on 3 May in Kaunas."})
			b := normalisedPairItem(t, labelledItem{Partner: "b", Language: "en", URL: tt.link, Title: "Rates held", Body: "The bank kept rates at 4 percent."})
			if tt.shared {
				a.Flags = addFlag(a.Flags, FlagLinkShared)
			}
			fp, err := c.Assign(ctx, a)
			if err != nil {
				t.Fatalf("assigning: %v", err)
			}
			if err := c.Record(ctx, a, fp); err != nil {
				t.Fatalf("recording: %v", err)
			}
			if _, err := c.Assign(ctx, b); err != nil {
				t.Fatalf("assigning: %v", err)
			}
			if b.ClusterID == a.ClusterID {
				t.Errorf("items grouped by a link that names no single story")
			}
		})
	}
}

func TestLinkedRecords(t *testing.T) {
	en, pl, lt := "https://c.example/en/fair", "https://c.example/pl/targi", "https://c.example/lt/muge"
	tests := []struct {
		name string
		a, b memberRecord
		want bool
	}{
		{"same link", memberRecord{URL: en}, memberRecord{URL: en}, true},
		{"alternate names the other", memberRecord{URL: pl, Alternates: []string{en}}, memberRecord{URL: en}, true},
		{"both name one alternate", memberRecord{URL: pl, Alternates: []string{en}}, memberRecord{URL: lt, Alternates: []string{en}}, true},
		{"different links", memberRecord{URL: pl}, memberRecord{URL: lt}, false},
		{"shared listing link", memberRecord{URL: en, SharedLink: true}, memberRecord{URL: en}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := linked(&tt.a, &tt.b); got != tt.want {
				t.Errorf("linked = %v, want %v", got, tt.want)
			}
		})
	}
}

// plant appends rec to c's store and sets its sequence, as record does,
// without filing it under its keys.
func plant(t testing.TB, c *Clusterer, rec *memberRecord) {
	t.Helper()
	seq, err := c.store.Append(context.Background(), encodeMemberRecord(rec), "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	rec.seq = seq
}
