package digests

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/syndic-network/syndic/feeds"
	"github.com/syndic-network/syndic/pipeline"
)

const testFrom = "Partner News <news@example.org>"

func testDigest() Digest {
	sched, err := ParseSchedule("daily 07:00", time.UTC)
	if err != nil {
		panic(err)
	}
	return Digest{
		ID: "daily", Channel: "all", Schedule: sched, MaxItems: 20, From: testFrom, GroupBy: "partner",
		Filter: feeds.Filter{Partners: []string{"wipk", "cci"}},
	}
}

var testPartners = map[string]string{"wipk": "Izba Przemysłowo-Handlowa", "cci": "Chamber of Commerce"}

type digestEnv struct {
	*natsEnv
	Sink    *smtpSink
	Service *Service
	HTTP    *httptest.Server
	Links   Links
}

func newDigestEnv(t *testing.T) *digestEnv {
	t.Helper()
	e := &digestEnv{natsEnv: newNATSEnv(t), Sink: newSMTPSink(t)}
	mux := http.NewServeMux()
	e.HTTP = httptest.NewServer(mux)
	t.Cleanup(e.HTTP.Close)
	e.Links = Links{BaseURL: e.HTTP.URL, Signer: NewSigner(strings.Repeat("k", 32))}
	e.Service = NewService(ServiceOptions{
		Digests: []Digest{testDigest()}, Store: e.Store, Links: e.Links, Mailer: e.Sink.mailer(t),
		Cache: e.Cache, Partners: testPartners,
	})
	e.Service.Register(mux)
	return e
}

func (e *digestEnv) runner(t *testing.T, owner string) *Runner {
	t.Helper()
	return NewRunner(RunnerOptions{
		Digest: testDigest(), Store: e.Store, SendLog: e.SendLog, Collector: e.Collector,
		Mailer: e.Sink.mailer(t), Links: e.Links, Partners: testPartners, Owner: owner,
		Lease: time.Minute, RatePerMinute: 60_000, Retries: 3, Backoff: time.Millisecond,
	})
}

// addConfirmed stores a confirmed subscriber whose digests start at since.
func (e *digestEnv) addConfirmed(t *testing.T, email string, since time.Time) *Subscriber {
	t.Helper()
	s := &Subscriber{Digest: "daily", Email: email, Locale: "en", TimeZone: "UTC", Status: StatusConfirmed,
		CreatedAt: since, ConfirmedAt: &since, CoveredUntil: since}
	if _, err := e.Store.Put(testContext(t), s, 0); err != nil {
		t.Fatalf("storing subscriber: %v", err)
	}
	return s
}

func item(id, partner, title string) pipeline.Item {
	return pipeline.Item{
		ID: id, Partner: partner, Feed: "news", Title: title, URL: "https://" + partner + ".example.org/" + id,
		Summary: "Summary of " + title + ".", Published: time.Now().UTC().Add(-time.Hour), Language: "en",
	}
}

func postForm(t *testing.T, rawURL string, form url.Values) *http.Response {
	t.Helper()
	resp, err := http.PostForm(rawURL, form)
	if err != nil {
		t.Fatalf("POST %s: %v", rawURL, err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

var confirmLink = regexp.MustCompile(`http://127\.0\.0\.1:\d+/digests/confirm\?token=\S+`)

func TestSignUpConfirmSendUnsubscribe(t *testing.T) {
	e := newDigestEnv(t)
	ctx := testContext(t)

	body := `{"email": "Czytelnik@Example.NET", "locale": "pl", "time_zone": "Europe/Warsaw"}`
	resp, err := http.Post(e.HTTP.URL+"/api/v1/digests/daily/subscribers", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST sign-up: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("sign-up status = %d, want 202", resp.StatusCode)
	}
	confirmation := parseMessage(t, e.Sink.waitFor(t, 1)[0].Data)
	if confirmation.Subject != "Potwierdź subskrypcję" {
		t.Errorf("confirmation subject = %q", confirmation.Subject)
	}
	link := confirmLink.FindString(confirmation.Parts["text/plain"].Body)
	if link == "" {
		t.Fatalf("confirmation text part has no confirm link:\n%s", confirmation.Parts["text/plain"].Body)
	}
	pending, _, err := e.Store.Find(ctx, "daily", "Czytelnik@example.net")
	if err != nil {
		t.Fatalf("finding pending subscriber: %v", err)
	}
	if pending.Status != StatusPending {
		t.Errorf("status before confirmation = %q, want pending", pending.Status)
	}

	page, err := http.Get(link)
	if err != nil {
		t.Fatalf("GET confirm link: %v", err)
	}
	_ = page.Body.Close()
	if still, _, _ := e.Store.Find(ctx, "daily", "Czytelnik@example.net"); still.Status != StatusPending {
		t.Error("GET on the confirm link confirmed the subscription; only the POST may")
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("parsing confirm link: %v", err)
	}
	if resp := postForm(t, e.HTTP.URL+"/digests/confirm", url.Values{"token": {u.Query().Get("token")}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("confirm status = %d, want 200", resp.StatusCode)
	}
	sub, _, err := e.Store.Find(ctx, "daily", "czytelnik@example.net")
	if err != nil {
		t.Fatalf("finding confirmed subscriber: %v", err)
	}
	if sub.Status != StatusConfirmed || sub.ConfirmedAt == nil {
		t.Fatalf("subscriber after confirmation = %+v, want confirmed with a consent time", sub)
	}

	e.publish(t, event(pipeline.KindCreated, 1, item("a", "wipk", "Targi w Bydgoszczy")))
	e.publish(t, event(pipeline.KindCreated, 1, item("b", "cci", "Old title")))
	e.publish(t, event(pipeline.KindUpdated, 2, item("b", "cci", "Export grants open")))
	e.publish(t, event(pipeline.KindCreated, 1, item("c", "cci", "Withdrawn story")))
	e.publish(t, event(pipeline.KindRetracted, 2, item("c", "cci", "Withdrawn story")))
	e.publish(t, event(pipeline.KindCreated, 1, item("d", "other", "Outside the channel")))
	backfill := item("e", "cci", "Backfilled archive story")
	backfill.Backfill = true
	e.publish(t, event(pipeline.KindCreated, 1, backfill))

	due := time.Now()
	rep, err := e.runner(t, "worker-1").Run(ctx, due)
	if err != nil {
		t.Fatalf("Run returned error: %v", err)
	}
	if rep.Sent != 1 {
		t.Fatalf("report = %+v, want one sent", rep)
	}
	raw := e.Sink.waitFor(t, 2)[1]
	msg := parseMessage(t, raw.Data)
	assertDigestMessage(t, msg, sub, due)
	text := msg.Parts["text/plain"].Body
	for _, want := range []string{"Targi w Bydgoszczy", "Export grants open"} {
		if !strings.Contains(text, want) {
			t.Errorf("digest lacks %q", want)
		}
	}
	for _, unwanted := range []string{"Old title", "Withdrawn story", "Outside the channel", "Backfilled archive story"} {
		if strings.Contains(msg.Parts["text/html"].Body+text, unwanted) {
			t.Errorf("digest contains %q", unwanted)
		}
	}

	again, err := e.runner(t, "worker-2").Run(ctx, due)
	if err != nil {
		t.Fatalf("second Run returned error: %v", err)
	}
	if again.Sent != 0 || len(e.Sink.all()) != 2 {
		t.Errorf("second run in the same period sent %d, want 0", again.Sent)
	}

	unsubscribe := strings.Trim(msg.Header.Get("List-Unsubscribe"), "<>")
	req, err := http.NewRequest(http.MethodPost, unsubscribe, strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatalf("building one-click request: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	oneClick, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("one-click POST: %v", err)
	}
	_ = oneClick.Body.Close()
	if oneClick.StatusCode != http.StatusOK {
		t.Fatalf("one-click status = %d, want 200", oneClick.StatusCode)
	}
	if _, _, err := e.Store.Find(ctx, "daily", sub.Email); !errors.Is(err, ErrNotFound) {
		t.Errorf("Find after unsubscribe returned %v, want ErrNotFound", err)
	}
	if ok, err := e.Store.Suppressed(ctx, "daily", sub.Email); err != nil || !ok {
		t.Errorf("Suppressed after unsubscribe = %v, %v, want true", ok, err)
	}
	e.publish(t, event(pipeline.KindCreated, 1, item("f", "wipk", "After unsubscribing")))
	if rep, err := e.runner(t, "worker-3").Run(ctx, time.Now()); err != nil || rep.Sent != 0 {
		t.Errorf("run after unsubscribe = %+v, %v, want nothing sent", rep, err)
	}
}

// assertDigestMessage checks headers, MIME structure, encodings, line
// lengths and links of a received digest.
func assertDigestMessage(t *testing.T, msg parsedMessage, sub *Subscriber, due time.Time) {
	t.Helper()
	d := testDigest()
	period := d.Schedule.Period(due)
	if got, want := msg.Header.Get("Message-Id"), "<"+MessageID(d.ID, period, sub.Email, d.From)+">"; got != want {
		t.Errorf("Message-ID = %q, want %q", got, want)
	}
	if _, err := msg.Header.Date(); err != nil {
		t.Errorf("Date header: %v", err)
	}
	from, err := msg.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Address != "news@example.org" || from[0].Name != "Partner News" {
		t.Errorf("From = %v, %v", from, err)
	}
	if !strings.Contains(msg.Header.Get("Subject"), "=?UTF-8?") {
		t.Errorf("Polish subject %q is not RFC 2047 encoded", msg.Header.Get("Subject"))
	}
	if !strings.HasPrefix(msg.Subject, "Wiadomości partnerów, ") {
		t.Errorf("decoded subject = %q", msg.Subject)
	}
	if got := msg.Header.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post = %q", got)
	}
	if lu := msg.Header.Get("List-Unsubscribe"); !strings.HasPrefix(lu, "<http") || !strings.Contains(lu, "/digests/unsubscribe?token=") {
		t.Errorf("List-Unsubscribe = %q", lu)
	}
	for _, ct := range []string{"text/plain", "text/html"} {
		part, ok := msg.Parts[ct]
		if !ok {
			t.Fatalf("message has no %s part", ct)
		}
		if !strings.EqualFold(part.Charset, "utf-8") {
			t.Errorf("%s charset = %q, want utf-8", ct, part.Charset)
		}
		if !strings.EqualFold(part.Encoding, "quoted-printable") {
			t.Errorf("%s encoding = %q, want quoted-printable", ct, part.Encoding)
		}
	}
	assertLineLengths(t, msg.Raw)
	assertLinksInText(t, msg)
	if strings.Contains(strings.ToLower(msg.Parts["text/html"].Body), "<style") || strings.Contains(strings.ToLower(msg.Parts["text/html"].Body), "<script") {
		t.Error("HTML part has a style or script element; mail clients need inline styles only")
	}
}

// assertLineLengths checks RFC 5322 section 2.1.1: at most 998 octets per
// line, and 78 for headers.
func assertLineLengths(t *testing.T, raw []byte) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	inHeader := true
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" {
			inHeader = false
		}
		if len(line) > 998 {
			t.Errorf("line %d has %d octets, over 998", n, len(line))
		}
		if inHeader && len(line) > 78 && !strings.HasPrefix(line, "List-Unsubscribe:") {
			t.Errorf("header line %d has %d octets, over 78: %.80s", n, len(line), line)
		}
	}
}

var hrefPattern = regexp.MustCompile(`href="([^"]+)"`)

func assertLinksInText(t *testing.T, msg parsedMessage) {
	t.Helper()
	text := msg.Parts["text/plain"].Body
	for _, m := range hrefPattern.FindAllStringSubmatch(msg.Parts["text/html"].Body, -1) {
		link := strings.ReplaceAll(m[1], "&amp;", "&")
		if !strings.Contains(text, link) {
			t.Errorf("link %s of the HTML part is missing from the text part", link)
		}
	}
}

func TestTwoWorkersSendOnce(t *testing.T) {
	e := newDigestEnv(t)
	ctx := testContext(t)
	since := time.Now().Add(-time.Hour)
	const subscribers = 30
	for i := range subscribers {
		e.addConfirmed(t, fmt.Sprintf("reader%02d@example.net", i), since)
	}
	e.publish(t, event(pipeline.KindCreated, 1, item("a", "wipk", "Shared news")))
	due := time.Now()
	reports := make(chan Report, 2)
	for _, owner := range []string{"worker-1", "worker-2"} {
		r := e.runner(t, owner)
		go func() {
			rep, err := r.Run(ctx, due)
			if err != nil {
				t.Errorf("%s: Run returned error: %v", owner, err)
			}
			reports <- rep
		}()
	}
	a, b := <-reports, <-reports
	if a.Sent+b.Sent != subscribers {
		t.Errorf("workers sent %d + %d, want %d in total", a.Sent, b.Sent, subscribers)
	}
	got := e.Sink.all()
	seen := map[string]bool{}
	for _, m := range got {
		if seen[m.To[0]] {
			t.Errorf("%s received two digests", m.To[0])
		}
		seen[m.To[0]] = true
	}
	if len(seen) != subscribers {
		t.Errorf("%d subscribers received a digest, want %d", len(seen), subscribers)
	}
}

func TestRunnerRetriesAndMarksRejected(t *testing.T) {
	e := newDigestEnv(t)
	ctx := testContext(t)
	since := time.Now().Add(-time.Hour)
	e.addConfirmed(t, "ok@example.net", since)
	e.addConfirmed(t, "busy@example.net", since)
	e.addConfirmed(t, "gone@example.net", since)
	busyAttempts := 0
	e.Sink.setReject(func(rcpt string) error {
		switch rcpt {
		case "gone@example.net":
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		case "busy@example.net":
			busyAttempts++
			if busyAttempts <= 2 {
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
			}
		}
		return nil
	})
	e.publish(t, event(pipeline.KindCreated, 1, item("a", "wipk", "News")))
	sentBefore := counterValue(t, digestsTotal.WithLabelValues("sent"))
	failedBefore := counterValue(t, digestsTotal.WithLabelValues("failed"))
	rep, err := e.runner(t, "worker-1").Run(ctx, time.Now())
	if err != nil {
		t.Fatalf("Run returned error: %v", err)
	}
	if got := counterValue(t, digestsTotal.WithLabelValues("sent")) - sentBefore; got != 2 {
		t.Errorf("syndic_digests_total{result=sent} rose by %v, want 2", got)
	}
	if got := counterValue(t, digestsTotal.WithLabelValues("failed")) - failedBefore; got != 1 {
		t.Errorf("syndic_digests_total{result=failed} rose by %v, want 1", got)
	}
	if rep.Sent != 2 {
		t.Errorf("sent = %d, want 2", rep.Sent)
	}
	if rep.Failed != 1 {
		t.Errorf("failed = %d, want 1", rep.Failed)
	}
	if busyAttempts != 3 {
		t.Errorf("busy address was tried %d times, want 3", busyAttempts)
	}
	gone, _, err := e.Store.Find(ctx, "daily", "gone@example.net")
	if err != nil {
		t.Fatalf("finding rejected subscriber: %v", err)
	}
	if !gone.Undeliverable {
		t.Error("rejected address is not marked undeliverable")
	}
}

func TestExpiredClaimResentWithSameMessageID(t *testing.T) {
	e := newDigestEnv(t)
	ctx := testContext(t)
	sub := e.addConfirmed(t, "reader@example.net", time.Now().Add(-time.Hour))
	e.publish(t, event(pipeline.KindCreated, 1, item("a", "wipk", "News")))
	due := time.Now()
	d := testDigest()
	period := d.Schedule.Period(due)
	msgID := MessageID(d.ID, period, sub.Email, d.From)
	// A worker that crashed after claiming: its lease ran out a second ago.
	_, err := e.SendLog.Claim(ctx, LogKey(d.ID, period, sub.Email), "crashed", msgID, time.Minute, time.Now().Add(-61*time.Second))
	if err != nil {
		t.Fatalf("Claim returned error: %v", err)
	}
	rep, err := e.runner(t, "worker-2").Run(ctx, due)
	if err != nil || rep.Sent != 1 {
		t.Fatalf("Run = %+v, %v, want one sent", rep, err)
	}
	msg := parseMessage(t, e.Sink.waitFor(t, 1)[0].Data)
	if got := msg.Header.Get("Message-Id"); got != "<"+msgID+">" {
		t.Errorf("Message-ID = %q, want <%s>", got, msgID)
	}
	entry, err := e.SendLog.Get(ctx, LogKey(d.ID, period, sub.Email))
	if err != nil {
		t.Fatalf("reading send log: %v", err)
	}
	if entry.State != StateSent || entry.Attempts != 2 {
		t.Errorf("send log = %+v, want sent after 2 attempts", entry)
	}
}

func TestLiveClaimIsSkipped(t *testing.T) {
	e := newDigestEnv(t)
	ctx := testContext(t)
	sub := e.addConfirmed(t, "reader@example.net", time.Now().Add(-time.Hour))
	e.publish(t, event(pipeline.KindCreated, 1, item("a", "wipk", "News")))
	due := time.Now()
	d := testDigest()
	period := d.Schedule.Period(due)
	_, err := e.SendLog.Claim(ctx, LogKey(d.ID, period, sub.Email), "busy", MessageID(d.ID, period, sub.Email, d.From), time.Hour, time.Now())
	if err != nil {
		t.Fatalf("Claim returned error: %v", err)
	}
	rep, err := e.runner(t, "worker-2").Run(ctx, due)
	if err != nil {
		t.Fatalf("Run returned error: %v", err)
	}
	if rep.Sent != 0 || rep.Skipped != 1 {
		t.Errorf("report = %+v, want one skipped and none sent", rep)
	}
	after, _, err := e.Store.Find(ctx, "daily", sub.Email)
	if err != nil {
		t.Fatalf("Find returned error: %v", err)
	}
	if !after.CoveredUntil.Equal(sub.CoveredUntil) {
		t.Errorf("covered-until moved to %s under another worker's live claim; a crash of that worker would lose the period", after.CoveredUntil)
	}
}

func TestCatchUpSendsOneDigest(t *testing.T) {
	e := newDigestEnv(t)
	ctx := testContext(t)
	d := testDigest()
	now := time.Now()
	// The worker was down for three periods; the subscriber's last digest
	// covered up to four days ago.
	e.addConfirmed(t, "reader@example.net", now.Add(-4*24*time.Hour))
	e.publish(t, event(pipeline.KindCreated, 1, item("a", "wipk", "News")))
	due := d.Schedule.Due(time.Now().Add(24 * time.Hour))
	rep, err := e.runner(t, "worker-1").Run(ctx, due)
	if err != nil || rep.Sent != 1 {
		t.Fatalf("Run = %+v, %v, want one sent", rep, err)
	}
	for _, missed := range []time.Time{due.Add(-24 * time.Hour), due.Add(-48 * time.Hour)} {
		rep, err := e.runner(t, "worker-1").Run(ctx, missed)
		if err != nil || rep.Sent != 0 {
			t.Errorf("Run for missed period %s = %+v, %v, want nothing sent", missed, rep, err)
		}
	}
	if n := len(e.Sink.all()); n != 1 {
		t.Errorf("subscriber received %d messages, want 1", n)
	}
}

func TestEmptyDigestIsSkipped(t *testing.T) {
	e := newDigestEnv(t)
	e.addConfirmed(t, "reader@example.net", time.Now().Add(-time.Hour))
	e.publish(t, event(pipeline.KindCreated, 1, item("d", "other", "Outside the channel")))
	rep, err := e.runner(t, "worker-1").Run(testContext(t), time.Now())
	if err != nil {
		t.Fatalf("Run returned error: %v", err)
	}
	if rep.Empty != 1 || rep.Sent != 0 {
		t.Errorf("report = %+v, want one empty and none sent", rep)
	}
}

func TestSendNowTwiceSendsOnce(t *testing.T) {
	e := newDigestEnv(t)
	ctx := testContext(t)
	e.addConfirmed(t, "reader@example.net", time.Now().Add(-time.Hour))
	e.publish(t, event(pipeline.KindCreated, 1, item("a", "wipk", "News")))
	r := e.runner(t, "operator")
	first, err := r.SendNow(ctx, time.Now())
	if err != nil || first.Sent != 1 {
		t.Fatalf("first SendNow = %+v, %v, want one sent", first, err)
	}
	second, err := r.SendNow(ctx, time.Now())
	if err != nil || second.Sent != 0 {
		t.Errorf("second SendNow = %+v, %v, want nothing sent", second, err)
	}
	scheduled, err := r.Run(ctx, testDigest().Schedule.Next(time.Now()))
	if err != nil || scheduled.Sent != 0 {
		t.Errorf("scheduled run of the same period = %+v, %v, want nothing sent", scheduled, err)
	}
	if n := len(e.Sink.all()); n != 1 {
		t.Errorf("received %d messages, want 1", n)
	}
}

func TestPreviewSendsNothing(t *testing.T) {
	e := newDigestEnv(t)
	e.addConfirmed(t, "reader@example.net", time.Now().Add(-time.Hour))
	e.publish(t, event(pipeline.KindCreated, 1, item("a", "wipk", "Preview news")))
	m, err := e.runner(t, "operator").Preview(testContext(t), "reader@example.net", time.Now())
	if err != nil {
		t.Fatalf("Preview returned error: %v", err)
	}
	var buf strings.Builder
	if _, err := m.WriteTo(&buf); err != nil {
		t.Fatalf("writing preview: %v", err)
	}
	if msg := parseMessage(t, []byte(buf.String())); !strings.Contains(msg.Parts["text/plain"].Body, "Preview news") {
		t.Errorf("preview lacks the item:\n%s", msg.Parts["text/plain"].Body)
	}
	if n := len(e.Sink.all()); n != 0 {
		t.Errorf("preview sent %d messages", n)
	}
	if _, err := e.SendLog.Get(testContext(t), LogKey("daily", testDigest().Schedule.Period(testDigest().Schedule.Next(time.Now())), "reader@example.net")); !errors.Is(err, ErrNotFound) {
		t.Errorf("preview wrote a send-log entry: %v", err)
	}
}
