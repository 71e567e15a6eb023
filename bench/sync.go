package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/sync/destinationtest"
	"github.com/cdpkit/cdp/sync/engine"
	"github.com/cdpkit/cdp/warehouse"
)

// SyncPass is one `cdp sync run` of the audience.
type SyncPass struct {
	Name       string  `json:"name"` // first | rerun_1pct
	Records    int64   `json:"records"`
	Added      int64   `json:"added"`
	Changed    int64   `json:"changed"`
	Removed    int64   `json:"removed"`
	Failed     int64   `json:"failed"`
	Requests   int64   `json:"requests"`
	Retries    int64   `json:"retries"`
	Throttled  int64   `json:"throttled"`
	Seconds    float64 `json:"wall_seconds"`     // the whole CLI process
	Delivery   float64 `json:"delivery_seconds"` // the delivery phase
	RowsPerSec float64 `json:"rows_per_sec"`     // records / delivery seconds
	RateUsed   float64 `json:"rate_limit_used"`  // requests/s ÷ rate limit
	PeakRSSKiB int64   `json:"cli_peak_rss_kib"` // Maxrss of the cdp process
	// Exact: after the pass the receiver holds exactly the audience, with
	// the current field values.
	Exact  bool   `json:"receiver_exact"`
	Status string `json:"status"`
}

// SyncRun is the sync benchmark at one audience size.
type SyncRun struct {
	Members   int         `json:"members"`
	RateLimit float64     `json:"rate_limit_per_sec"`
	BatchSize int         `json:"batch_size"`
	Faults    string      `json:"faults"`
	Passes    []*SyncPass `json:"passes"`
	Error     string      `json:"error,omitempty"`
}

const syncsYAML = `destinations:
  - name: receiver
    type: webhook
    url: "${BENCH_HOOK_URL}"
    secret: "${BENCH_HOOK_SECRET}"
    rate_limit: %s/s
    batch_size: %d
syncs:
  - name: members
    segment: buyers
    destination: receiver
    mode: mirror
    key: email
    fields: { email: email, lifetime_value: lifetime_value, orders_count: orders_count }
    null_values: send
`

// fillAudience writes n profiles, all in segment buyers; every hundredth
// gets bump added to its lifetime value.
func fillAudience(ctx context.Context, w warehouse.Warehouse, n int, bump float64) error {
	d := w.Dialect()
	t := layout.Tables{D: d, Schema: CDPSchema, Entity: "customer"}
	if _, err := w.Exec(ctx, d.CreateSchema(CDPSchema)); err != nil {
		return err
	}
	i := 0
	_, err := w.(warehouse.BulkLoader).LoadRows(ctx, t.Q(t.Profiles()), []warehouse.Column{
		{Name: "profile_id", Type: models.TypeString}, {Name: "email", Type: models.TypeString},
		{Name: "lifetime_value", Type: models.TypeNumber}, {Name: "orders_count", Type: models.TypeInteger},
		{Name: "last_seen_at", Type: models.TypeTimestamp},
	}, func() ([]any, error) {
		if i == n {
			return nil, io.EOF
		}
		i++
		return []any{"p" + strconv.Itoa(i), memberEmail(i), memberValue(i, bump), int64(i % 7), AsOf}, nil
	})
	if err != nil {
		return err
	}
	for _, q := range d.CreateTableAs(t.Q(t.Segments()), fmt.Sprintf(
		"SELECT %s AS segment, profile_id, FALSE AS in_holdout, %s AS entered_at FROM %s",
		d.QuoteString("buyers"), d.TimestampLiteral(AsOf), t.Q(t.Profiles()))) {
		if _, err := w.Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

func memberEmail(i int) string { return "member" + strconv.Itoa(i) + "@mail.test" }
func memberValue(i int, bump float64) float64 {
	v := float64(i%10000) / 4
	if i%100 == 0 {
		v += bump
	}
	return v
}

// runSync delivers an n-member audience twice (first, then 1% changed).
func (h *Harness) runSync(ctx context.Context, n int) *SyncRun {
	r := &SyncRun{Members: n, RateLimit: h.SyncRate, BatchSize: 1000, Faults: "HTTP 500 on every 100th request (retried with backoff)"}
	fail := func(err error) *SyncRun {
		r.Error = err.Error()
		h.logf("sync %d: %v", n, err)
		return r
	}
	dir := filepath.Join(h.Work, fmt.Sprintf("sync-%d", n))
	_ = os.RemoveAll(dir)
	t := Target{Engine: "duckdb", Path: filepath.Join(dir, "bench.duckdb")}
	if err := WriteProject(dir, t); err != nil {
		return fail(err)
	}
	rate := strconv.FormatFloat(h.SyncRate, 'f', -1, 64)
	if err := os.WriteFile(filepath.Join(dir, "models", "syncs.yml"), []byte(fmt.Sprintf(syncsYAML, rate, r.BatchSize)), 0o644); err != nil {
		return fail(err)
	}
	secret := destinationtest.NewSecret()
	srv, err := destinationtest.Serve("127.0.0.1:0", destinationtest.Options{Secret: secret, MaxBatch: r.BatchSize,
		Faults: destinationtest.Faults{Status500Every: 100}, Log: io.Discard})
	if err != nil {
		return fail(err)
	}
	defer srv.Shutdown(context.Background())
	recv := srv.Handler.(*destinationtest.Receiver)
	env := append(os.Environ(), "BENCH_HOOK_URL=http://"+srv.Addr+"/hook", "BENCH_HOOK_SECRET="+secret)
	for _, pass := range []struct {
		name string
		bump float64
	}{{"first", 0}, {"rerun_1pct", 1}} {
		w, err := openTarget(ctx, t)
		if err != nil {
			return fail(err)
		}
		err = fillAudience(ctx, w, n, pass.bump)
		w.Close()
		if err != nil {
			return fail(err)
		}
		p, err := h.syncPass(ctx, dir, env)
		if err != nil {
			return fail(err)
		}
		p.Name = pass.name
		p.Exact = receiverExact(recv, n, pass.bump)
		r.Passes = append(r.Passes, p)
		h.logf("sync %d %-10s: %d records in %.1fs delivery (%.0f rows/s, %.0f%% of the rate limit), %d retries, CLI peak RSS %.0f MiB, exact %v",
			n, p.Name, p.Records, p.Delivery, p.RowsPerSec, 100*p.RateUsed, p.Retries, float64(p.PeakRSSKiB)/1024, p.Exact)
	}
	_ = os.RemoveAll(dir)
	return r
}

// syncPass runs `cdp --json sync run members` and reads its result.
func (h *Harness) syncPass(ctx context.Context, dir string, env []string) (*SyncPass, error) {
	cmd := exec.CommandContext(ctx, h.CDP, "--project", dir, "--json", "sync", "run", "members")
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	runErr := cmd.Run()
	p := &SyncPass{Seconds: time.Since(start).Seconds()}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			p.PeakRSSKiB = ru.Maxrss // KiB on Linux
		}
	}
	var res *engine.Result
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var line struct {
			Event  string         `json:"event"`
			Result *engine.Result `json:"result"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Event == "result" {
			res = line.Result
		}
	}
	if res == nil {
		return nil, fmt.Errorf("cdp sync run: no result (%v)\n%s%s", runErr, tail(out.String()), tail(errb.String()))
	}
	s := res.Stats
	p.Status, p.Added, p.Changed, p.Removed, p.Failed = res.Status, res.Added, res.Changed, res.Removed, res.Failed
	p.Records, p.Requests, p.Retries, p.Throttled = s.Records, s.Requests, s.Retries, s.Throttled
	p.Delivery = s.Duration.Seconds()
	if p.Delivery > 0 {
		p.RowsPerSec = float64(s.Confirmed) / p.Delivery
	}
	p.RateUsed = s.RateUsed()
	return p, nil
}

// receiverExact checks the receiver holds exactly the n members with their
// current values.
func receiverExact(r *destinationtest.Receiver, n int, bump float64) bool {
	st := r.State()
	if len(st) != n {
		return false
	}
	for i := 1; i <= n; i++ {
		f, ok := st[memberEmail(i)]
		if !ok {
			return false
		}
		if v, ok := f["lifetime_value"].(float64); !ok || v != memberValue(i, bump) {
			return false
		}
	}
	return true
}
