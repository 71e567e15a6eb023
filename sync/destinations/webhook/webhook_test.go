package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/destinations/webhook"
	"github.com/cdpkit/cdp/sync/destinationtest"
)

func open(t *testing.T, settings map[string]string) destination.Destination {
	t.Helper()
	spec, err := destination.Lookup("webhook")
	if err != nil {
		t.Fatal(err)
	}
	d, err := spec.New(context.Background(), destination.Config{
		Name: "crm_hook", Settings: settings, SyncName: "vip_to_crm", RunID: "run-1",
		Fields: []string{"email", "ltv", "vip", "seen"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func openServer(t *testing.T, s *destinationtest.Server, extra ...string) destination.Destination {
	settings := map[string]string{"url": s.URL() + "/hooks/cdp", "secret": s.Secret}
	for i := 0; i+1 < len(extra); i += 2 {
		settings[extra[i]] = extra[i+1]
	}
	return open(t, settings)
}

func recs(ops ...string) []destination.Record {
	var out []destination.Record
	for i, op := range ops {
		k := fmt.Sprintf("u%d@example.org", i)
		out = append(out, destination.Record{Op: destination.Op(op), Key: k,
			Fields: map[string]any{"email": k, "ltv": int64(100 * i), "vip": i%2 == 0}})
	}
	return out
}

func batchError(t *testing.T, err error) *destination.BatchError {
	t.Helper()
	var be *destination.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("want *BatchError, got %T %v", err, err)
	}
	return be
}

func mustApply(t *testing.T, d destination.Destination, batch []destination.Record) []destination.Result {
	t.Helper()
	res, err := d.Apply(context.Background(), batch)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(res) != len(batch) {
		t.Fatalf("%d results for %d records", len(res), len(batch))
	}
	return res
}

func TestDeliversSignedBatch(t *testing.T) {
	s := destinationtest.New(t, destinationtest.Options{MaxBatch: 100})
	d := openServer(t, s)
	seen := time.Date(2026, 3, 1, 12, 30, 0, 0, time.FixedZone("CET", 3600))
	batch := []destination.Record{
		{Op: destination.OpAdd, Key: "a@x.org", Fields: map[string]any{"email": "a@x.org", "ltv": int64(42), "vip": true, "seen": seen}},
		{Op: destination.OpAdd, Key: "b@x.org", Fields: map[string]any{"email": "b@x.org", "ltv": 1.5, "vip": false, "seen": nil}},
		{Op: destination.OpAdd, Key: `q"u;o'te`, Fields: nil},
	}
	for i, r := range mustApply(t, d, batch) {
		if r.Err != nil {
			t.Errorf("record %d: %v", i, r.Err)
		}
	}
	mustApply(t, d, []destination.Record{
		{Op: destination.OpChange, Key: "a@x.org", Fields: map[string]any{"email": "a@x.org", "ltv": int64(43)}},
		{Op: destination.OpRemove, Key: "b@x.org", Fields: map[string]any{"email": "b@x.org"}},
	})
	want := map[string]map[string]any{
		"a@x.org":  {"email": "a@x.org", "ltv": 43.0},
		`q"u;o'te`: {},
	}
	if got := s.State(); !reflect.DeepEqual(got, want) {
		t.Errorf("state = %v, want %v", got, want)
	}
	ops := s.Ops()
	if len(ops) != 5 || ops[0].Fields["seen"] != "2026-03-01T11:30:00Z" || ops[1].Fields["seen"] != nil {
		t.Errorf("ops = %+v", ops)
	}
	log := s.BatchLog()
	if len(log) != 2 || log[0].Sync != "vip_to_crm" || log[0].RunID != "run-1" || log[0].Add != 3 ||
		log[1].Change != 1 || log[1].Remove != 1 || !strings.HasPrefix(log[0].WebhookID, "msg_") || len(log[0].WebhookID) != 28 {
		t.Errorf("batch log = %+v", log)
	}
	if st := s.Stats(); st.Requests != 2 || st.Batches != 2 || st.Invalid != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestWebhookIDNamesTheContent(t *testing.T) {
	s := destinationtest.New(t, destinationtest.Options{})
	d := openServer(t, s)
	mustApply(t, d, recs("add", "add"))
	mustApply(t, d, recs("add", "add"))
	mustApply(t, d, recs("add", "change"))
	log := s.BatchLog()
	if log[0].WebhookID != log[1].WebhookID || !log[1].Duplicate {
		t.Errorf("a resent batch must keep its webhook-id: %+v", log)
	}
	if log[2].WebhookID == log[0].WebhookID {
		t.Errorf("different records must get a different webhook-id: %+v", log)
	}
	if s.Stats().Duplicates != 1 {
		t.Errorf("duplicates = %d", s.Stats().Duplicates)
	}
}

func TestRecordFaultsMapToIndexes(t *testing.T) {
	s := destinationtest.New(t, destinationtest.Options{Faults: destinationtest.Faults{RejectRate: 0.3, RetryableRecordRate: 0.2, Seed: 7}})
	d := openServer(t, s)
	batch := recs(strings.Split(strings.Repeat("add,", 100), ",")[:100]...)
	res := mustApply(t, d, batch)
	state := s.State()
	var rejected, retry int
	for i, r := range res {
		_, held := state[batch[i].Key]
		if held != (r.Err == nil) {
			t.Errorf("record %d: err %v but held by receiver = %v", i, r.Err, held)
		}
		switch {
		case r.Err != nil && r.Retryable:
			retry++
		case r.Err != nil:
			rejected++
		}
	}
	b := s.BatchLog()[0]
	if rejected != b.Rejected || retry != b.Retry || rejected == 0 || retry == 0 {
		t.Errorf("rejected %d retry %d, receiver says %d %d", rejected, retry, b.Rejected, b.Retry)
	}
}

func TestResultsSkipUnencodableRecords(t *testing.T) {
	var got string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = string(b)
		if r.Header.Get("Webhook-Signature") != "" {
			t.Error("unsigned destination sent a signature")
		}
		io.WriteString(w, `{"results":[{"index":0,"status":"rejected","error":"bad email"},{"index":2,"status":"retry"},{"index":1,"status":"ok"}]}`)
	}))
	defer ts.Close()
	d := open(t, map[string]string{"url": ts.URL})
	batch := recs("add", "add", "change", "remove")
	batch[1].Fields["ltv"] = math.NaN()
	res := mustApply(t, d, batch)
	if res[0].Err == nil || res[0].Retryable || !strings.Contains(res[0].Err.Error(), "bad email") {
		t.Errorf("record 0: %+v", res[0])
	}
	if res[1].Err == nil || res[1].Retryable || !strings.Contains(res[1].Err.Error(), "NaN") {
		t.Errorf("record 1 (NaN, not sent): %+v", res[1])
	}
	if res[2].Err != nil {
		t.Errorf("record 2: %+v", res[2])
	}
	if res[3].Err == nil || !res[3].Retryable {
		t.Errorf("record 3: %+v", res[3])
	}
	if strings.Count(got, `"op"`) != 3 || strings.Contains(got, "u1@") {
		t.Errorf("body = %s", got)
	}
}

func TestThrottled(t *testing.T) {
	s := destinationtest.New(t, destinationtest.Options{Faults: destinationtest.Faults{Status429Every: 2, RetryAfter: 3 * time.Second}})
	d := openServer(t, s)
	mustApply(t, d, recs("add"))
	_, err := d.Apply(context.Background(), recs("add", "add"))
	be := batchError(t, err)
	if !be.Retryable || be.Status != 429 || be.RetryAfter != 3*time.Second {
		t.Errorf("429: %+v", be)
	}
	if s.Throttled() != 1 || s.Batches() != 1 || len(s.State()) != 1 {
		t.Errorf("throttled %d batches %d state %v", s.Throttled(), s.Batches(), s.State())
	}
	s.SetFaults(destinationtest.Faults{Status429Every: 1, RetryAfterHeader: time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)})
	_, err = d.Apply(context.Background(), recs("add"))
	if be := batchError(t, err); be.RetryAfter < 59*time.Minute || be.RetryAfter > time.Hour {
		t.Errorf("Retry-After as an HTTP date: %v", be.RetryAfter)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		"0":                             0,
		"-3":                            0,
		"soon":                          0,
		"Thu, 01 Jan 2026 00:01:30 GMT": 90 * time.Second,
		"Wed, 31 Dec 2025 23:00:00 GMT": 0,
	} {
		if got := webhook.RetryAfter(h, now); got != want {
			t.Errorf("RetryAfter(%q) = %v, want %v", h, got, want)
		}
	}
}

func TestRetryableFailuresApplyNothing(t *testing.T) {
	for name, f := range map[string]destinationtest.Faults{
		"500":     {Status500Every: 1},
		"503":     {StatusEvery: 1, Status: 503},
		"408":     {StatusEvery: 1, Status: 408},
		"timeout": {TimeoutEvery: 1},
		"drop":    {DropEvery: 1},
	} {
		t.Run(name, func(t *testing.T) {
			s := destinationtest.New(t, destinationtest.Options{Faults: f})
			d := openServer(t, s, "timeout", "300ms")
			_, err := d.Apply(context.Background(), recs("add", "add"))
			if be := batchError(t, err); !be.Retryable {
				t.Errorf("want retryable, got %+v", be)
			}
			if s.Batches() != 0 || len(s.State()) != 0 {
				t.Errorf("a failed batch was applied: %v", s.State())
			}
			s.SetFaults(destinationtest.Faults{})
			mustApply(t, d, recs("add", "add"))
			if log := s.BatchLog(); len(log) != 1 || len(s.State()) != 2 {
				t.Errorf("retry after recovery: %+v", log)
			}
		})
	}
}

func TestTimeoutMessage(t *testing.T) {
	s := destinationtest.New(t, destinationtest.Options{Faults: destinationtest.Faults{TimeoutEvery: 1}})
	d := openServer(t, s, "timeout", "100ms")
	start := time.Now()
	_, err := d.Apply(context.Background(), recs("add"))
	if time.Since(start) > 5*time.Second || !strings.Contains(fmt.Sprint(err), "no response within 100ms") {
		t.Errorf("err = %v after %v", err, time.Since(start))
	}
	if s.Stats().TimedOut != 1 {
		t.Errorf("stats = %+v", s.Stats())
	}
}

func TestRefusedBatchIsNotRetryable(t *testing.T) {
	s := destinationtest.New(t, destinationtest.Options{Faults: destinationtest.Faults{StatusEvery: 1, Status: 403, Body: "forbidden: token revoked"}})
	d := openServer(t, s)
	_, err := d.Apply(context.Background(), recs("add"))
	be := batchError(t, err)
	if be.Retryable || be.Status != 403 || !strings.Contains(be.Error(), "forbidden: token revoked") {
		t.Errorf("403: %+v %v", be, be)
	}
}

func TestReceiverEnforcesContract(t *testing.T) {
	s := destinationtest.New(t, destinationtest.Options{MaxBatch: 2, AllowViolations: true})
	wrong := open(t, map[string]string{"url": s.URL(), "secret": destinationtest.NewSecret()})
	_, err := wrong.Apply(context.Background(), recs("add"))
	if be := batchError(t, err); be.Retryable || be.Status != 400 || !strings.Contains(be.Error(), "signature") {
		t.Errorf("wrong secret: %v", err)
	}
	big := openServer(t, s, "batch_size", "3")
	_, err = big.Apply(context.Background(), recs("add", "add", "add"))
	if be := batchError(t, err); be.Retryable || be.Status != 400 {
		t.Errorf("too big: %v", err)
	}
	if v := s.Violations(); len(v) != 2 || !strings.Contains(v[1], "more than the maximum batch of 2") {
		t.Errorf("violations = %q", v)
	}
	if len(s.State()) != 0 {
		t.Errorf("state = %v", s.State())
	}
}

func TestRawSecret(t *testing.T) {
	s := destinationtest.New(t, destinationtest.Options{Secret: "not base64 at all; just bytes"})
	d := openServer(t, s)
	mustApply(t, d, recs("add"))
	if s.Batches() != 1 {
		t.Errorf("batches = %d", s.Batches())
	}
}

func TestBadResponses(t *testing.T) {
	for name, c := range map[string]struct {
		status    int
		body      string
		retryable bool
		msg       string
	}{
		"malformed":    {200, "OK", true, "not {\"results\""},
		"out of range": {200, `{"results":[{"index":2,"status":"rejected"}]}`, true, "outside the batch of 2"},
		"negative":     {200, `{"results":[{"index":-1,"status":"ok"}]}`, true, "outside the batch"},
		"repeated":     {200, `{"results":[{"index":1,"status":"ok"},{"index":1,"status":"rejected"}]}`, true, "repeats index 1"},
		"no index":     {200, `{"results":[{"status":"ok"}]}`, true, "no index"},
		"bad status":   {202, `{"results":[{"index":0,"status":"failed"}]}`, true, `status "failed"`},
		"redirect":     {307, "", false, "redirects are not followed"},
		"410":          {410, "gone", false, `"gone"`},
		"502":          {502, "<html>bad gateway</html>", true, "bad gateway"},
	} {
		t.Run(name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", "/elsewhere")
				w.WriteHeader(c.status)
				io.WriteString(w, c.body)
			}))
			defer ts.Close()
			d := open(t, map[string]string{"url": ts.URL})
			_, err := d.Apply(context.Background(), recs("add", "add"))
			be := batchError(t, err)
			if be.Retryable != c.retryable || be.Status != c.status || !strings.Contains(be.Error(), c.msg) {
				t.Errorf("got %+v: %v", be, be)
			}
		})
	}
}

func TestEmptyAndEmptyObjectResponses(t *testing.T) {
	for _, body := range []string{"", "  \n", `{}`, `{"results":[]}`, `{"results":[{"index":1,"status":"ok"}]}`} {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			io.WriteString(w, body)
		}))
		d := open(t, map[string]string{"url": ts.URL})
		for i, r := range mustApply(t, d, recs("add", "add")) {
			if r.Err != nil {
				t.Errorf("body %q record %d: %v", body, i, r.Err)
			}
		}
		ts.Close()
	}
}

func TestConcurrentApply(t *testing.T) {
	s := destinationtest.New(t, destinationtest.Options{Faults: destinationtest.Faults{RejectRate: 0.1, Status429Every: 5}})
	d := openServer(t, s, "batch_size", "10")
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 0; b < 5; b++ {
				batch := make([]destination.Record, 10)
				for i := range batch {
					batch[i] = destination.Record{Op: destination.OpAdd, Key: fmt.Sprintf("g%d-b%d-%d", g, b, i), Fields: map[string]any{}}
				}
				_, _ = d.Apply(context.Background(), batch)
			}
		}()
	}
	wg.Wait()
	st := s.Stats()
	if st.Requests != 40 || st.Throttled != 8 || st.Batches != 32 || st.Records+st.Rejected != 320 {
		t.Errorf("stats = %+v", st)
	}
}

func TestSettings(t *testing.T) {
	spec, _ := destination.Lookup("webhook")
	if st, ok := spec.Setting("url"); !ok || !st.Required || st.Kind != destination.KindURL {
		t.Errorf("url setting = %+v", st)
	}
	for _, c := range []struct {
		settings map[string]string
		msg      string
	}{
		{map[string]string{}, "url is required"},
		{map[string]string{"url": "ftp://x"}, "http:// or https://"},
		{map[string]string{"url": "https://u:pw@/p?token=s3cret"}, "has no host"},
		{map[string]string{"url": "https://x", "batch_size": "1001"}, "batch_size"},
		{map[string]string{"url": "https://x", "batch_size": "0"}, "batch_size"},
		{map[string]string{"url": "https://x", "timeout": "10"}, "timeout"},
		{map[string]string{"url": "https://x", "secret": "whsec_!!"}, "base64"},
	} {
		_, err := spec.New(context.Background(), destination.Config{Name: "h", Settings: c.settings})
		if err == nil || !strings.Contains(err.Error(), c.msg) || strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "pw") {
			t.Errorf("%v: err = %v, want %q", c.settings, err, c.msg)
		}
	}
	d := open(t, map[string]string{"url": "https://x", "batch_size": "250", "timeout": "5s"})
	c := d.Capabilities()
	if c.MaxBatch != 250 || c.Timeout != 5*time.Second || !c.Supports(destination.OpRemove) || c.RateLimit != 0 {
		t.Errorf("capabilities = %+v", c)
	}
	if c := open(t, map[string]string{"url": "https://x"}).Capabilities(); c.MaxBatch != 100 || c.Timeout != 30*time.Second {
		t.Errorf("defaults = %+v", c)
	}
	_, err := d.Apply(context.Background(), make([]destination.Record, 251))
	if be := batchError(t, err); be.Retryable {
		t.Errorf("oversized batch: %v", be)
	}
}

func TestSignMatchesStandardWebhooksVector(t *testing.T) {
	key, err := webhook.DecodeSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := webhook.Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}
