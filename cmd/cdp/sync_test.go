package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/delivery"
	"github.com/cdpkit/cdp/sync/destinationtest"
	"github.com/cdpkit/cdp/sync/engine"
	"github.com/cdpkit/cdp/warehouse/duckdb"
)

var (
	planHeadRe   = regexp.MustCompile(`^sync (\w+) \((\w+) → (\w+)\)$`)
	planSampleRe = regexp.MustCompile(`^  ([+~-]) (\S+) \{(.*)\}$`)
	planMoreRe   = regexp.MustCompile(`^  … and (\d+) more$`)
	planCountsRe = regexp.MustCompile(`^  (\d+) to add, (\d+) to change, (\d+) to remove(?:, \d+ to unsubscribe)?(?:; (\d+) skipped \(holdout (\d+)(?:, suppressed \d+)?(?:, no consent (\d+))?, null key (\d+), duplicate key (\d+), not in mode (\d+)\))?$`)
	runHeadRe    = regexp.MustCompile(`^sync (\w+) \((\w+) → (\w+)\) run (r\d{8}T\d{6}Z-[0-9a-f]{6})$`)
	runResultRe  = regexp.MustCompile(`^  (\w+) in \d+\.\d\ds: (\d+) added, (\d+) changed, (\d+) removed, (\d+) failed, (\d+) skipped(?: \((\d+) requests, (\d+) retries, (\d+) throttled\))?$`)
	historyRowRe = regexp.MustCompile(`^(r\d{8}T\d{6}Z-[0-9a-f]{6})\s+(\w+)\s+(\w+)\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S+)$`)
)

// syncTemplate is a seeded and run copy of the example, built once by TestSync
// and copied by each of its subtests.
func syncTemplate(t *testing.T) string {
	t.Helper()
	dir := newProject(t)
	mustCDP(t, 0, "--project", dir, "seed")
	mustCDP(t, 0, "--project", dir, "--as-of", asOf, "run")
	return dir
}

// copyProject copies a project folder, warehouse file included, into a fresh
// temporary folder.
func copyProject(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "shop")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(to)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// crmServer starts a contract server and points the example's webhook at it.
func crmServer(t *testing.T) *destinationtest.Server {
	t.Helper()
	srv := destinationtest.New(t, destinationtest.Options{})
	t.Setenv("CRM_HOOK_URL", srv.URL()+"/hooks/crm")
	t.Setenv("CRM_HOOK_SECRET", srv.Secret)
	return srv
}

// duckStrings runs a query on the project's DuckDB file and returns its rows
// with every value as text ("" for NULL).
func duckStrings(t *testing.T, dir, query string) [][]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w, err := duckdb.Open(ctx, filepath.Join(dir, ".cdp", "retail.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	rows, err := w.Query(ctx, query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			if v != nil {
				row[i] = fmt.Sprint(v)
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// duckExec runs statements on the project's DuckDB file.
func duckExec(t *testing.T, dir string, stmts ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w, err := duckdb.Open(ctx, filepath.Join(dir, ".cdp", "retail.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, q := range stmts {
		if _, err := w.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// vipAudience is what vip_to_crm must deliver, read from the warehouse: the
// segment's members outside the holdout with an email, one per email (the
// smallest profile_id wins), as key → text fields.
func vipAudience(t *testing.T, dir string) map[string]map[string]string {
	t.Helper()
	rows := duckStrings(t, dir, `SELECT p.email, p.first_name, p.last_name, p.ltv_tier, p.country
FROM cdp.customer_segments AS s JOIN cdp.customer_profiles AS p ON p.profile_id = s.profile_id
WHERE s.segment = 'vip_customers' AND NOT s.in_holdout AND p.email IS NOT NULL
QUALIFY ROW_NUMBER() OVER (PARTITION BY p.email ORDER BY p.profile_id) = 1`)
	out := map[string]map[string]string{}
	for _, r := range rows {
		out[r[0]] = map[string]string{"email": r[0], "first_name": r[1], "last_name": r[2], "tier": r[3], "country": r[4]}
	}
	n := duckCount(t, dir, `SELECT COUNT(DISTINCT p.email)
FROM cdp.customer_segments AS s JOIN cdp.customer_profiles AS p ON p.profile_id = s.profile_id
WHERE s.segment = 'vip_customers' AND NOT s.in_holdout AND p.email IS NOT NULL`)
	if int64(len(out)) != n || n == 0 {
		t.Fatalf("audience: %d keys, COUNT(DISTINCT email) says %d", len(out), n)
	}
	return out
}

// checkHolds fails unless the server holds exactly the audience, with the
// audience's text fields (null fields are left out: null_values: skip).
func checkHolds(t *testing.T, srv *destinationtest.Server, want map[string]map[string]string) {
	t.Helper()
	got := srv.State()
	var missing, extra []string
	for k := range want {
		if _, ok := got[k]; !ok {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			extra = append(extra, k)
		}
	}
	if len(missing)+len(extra) > 0 {
		sort.Strings(missing)
		sort.Strings(extra)
		t.Fatalf("destination holds %d records, want %d: missing %v, extra %v", len(got), len(want), missing, extra)
	}
	for k, fields := range want {
		for f, v := range fields {
			g, ok := got[k][f]
			if v == "" && ok {
				t.Errorf("%s: %s = %v, want it left out (null, null_values: skip)", k, f, g)
			}
			if v != "" && g != v {
				t.Errorf("%s: %s = %v, want %q", k, f, g, v)
			}
		}
		if _, ok := got[k]["lifetime_value"]; !ok {
			t.Errorf("%s: no lifetime_value", k)
		}
	}
}

// parsedPlan is the text output of `sync plan` for one sync.
type parsedPlan struct {
	sync, mode, dest    string
	samples             []string // "+ key"
	more                int64
	add, change, remove int64
	skipped, holdout    int64
	blocked             bool
	sampleFields        []string
}

func parsePlans(t *testing.T, out string) map[string]parsedPlan {
	t.Helper()
	plans := map[string]parsedPlan{}
	var cur *parsedPlan
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if m := planHeadRe.FindStringSubmatch(l); m != nil {
			if cur != nil {
				plans[cur.sync] = *cur
			}
			cur = &parsedPlan{sync: m[1], mode: m[2], dest: m[3]}
			continue
		}
		if cur == nil {
			t.Fatalf("plan output does not start with a sync header:\n%s", out)
		}
		if m := planSampleRe.FindStringSubmatch(l); m != nil {
			cur.samples = append(cur.samples, m[1]+" "+m[2])
			cur.sampleFields = append(cur.sampleFields, m[3])
		} else if m := planMoreRe.FindStringSubmatch(l); m != nil {
			cur.more = atoi(t, m[1])
		} else if m := planCountsRe.FindStringSubmatch(l); m != nil {
			cur.add, cur.change, cur.remove = atoi(t, m[1]), atoi(t, m[2]), atoi(t, m[3])
			if m[4] != "" {
				cur.skipped, cur.holdout = atoi(t, m[4]), atoi(t, m[5])
			}
		} else if strings.HasPrefix(l, "  ! a run would stop: ") {
			cur.blocked = true
		} else if strings.HasPrefix(l, "  skipped: no consent ") {
			// repeats the count of the line above
		} else {
			t.Errorf("unexpected plan line %q", l)
		}
	}
	if cur != nil {
		plans[cur.sync] = *cur
	}
	return plans
}

// syncResult is one sync's part of the text output of `sync run`.
type syncResult struct {
	runID, status                          string
	added, changed, removed, failed, skips int64
	requests                               int64
}

func parseRun(t *testing.T, out string) map[string]syncResult {
	t.Helper()
	res := map[string]syncResult{}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		h := runHeadRe.FindStringSubmatch(lines[i])
		if h == nil {
			t.Fatalf("sync run line %d: %q is not a sync header\n%s", i+1, lines[i], out)
		}
		if i+1 >= len(lines) {
			t.Fatalf("no result line after %q", lines[i])
		}
		i++
		m := runResultRe.FindStringSubmatch(lines[i])
		if m == nil {
			t.Fatalf("sync run result line: %q", lines[i])
		}
		r := syncResult{runID: h[4], status: m[1], added: atoi(t, m[2]), changed: atoi(t, m[3]), removed: atoi(t, m[4]),
			failed: atoi(t, m[5]), skips: atoi(t, m[6])}
		if m[7] != "" {
			r.requests = atoi(t, m[7])
		}
		if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "  the platform reports: ") {
			i++ // an ad platform's match report
		}
		if r.failed > 0 {
			i++
			if i >= len(lines) || lines[i] != "  failed records are in cdp_sync_rejections and will be retried by the next run" {
				t.Errorf("a run with failed records does not point at cdp_sync_rejections:\n%s", out)
			}
		}
		res[h[1]] = r
	}
	return res
}

// historyRow is one line of `sync history`.
type historyRow struct {
	runID, sync, status string
	added, changed      int64
	removed, failed     int64
	errLine             string
}

func parseHistory(t *testing.T, out string) []historyRow {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "run ") || !strings.Contains(lines[0], "seconds") {
		t.Fatalf("history header: %q", lines[0])
	}
	var rows []historyRow
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "    ") && len(rows) > 0 {
			rows[len(rows)-1].errLine = strings.TrimSpace(l)
			continue
		}
		m := historyRowRe.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("history line %q", l)
		}
		rows = append(rows, historyRow{runID: m[1], sync: m[2], status: m[3], added: atoi(t, m[5]), changed: atoi(t, m[6]),
			removed: atoi(t, m[7]), failed: atoi(t, m[8])})
	}
	return rows
}

// exportLines counts the records of the file destination's files of a sync.
func exportLines(t *testing.T, dir, sync string) (files int, lines int) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, ".cdp", "exports", sync, "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var rec struct {
				Op     string         `json:"op"`
				Key    string         `json:"key"`
				Fields map[string]any `json:"fields"`
			}
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil || rec.Key == "" {
				t.Errorf("%s: bad line %q: %v", p, sc.Text(), err)
			}
			lines++
		}
		f.Close()
	}
	return len(paths), lines
}

// TestSync drives `cdp sync plan|run|history` on a seeded and run copy of the
// example, with the webhook pointed at a local contract server.
func TestSync(t *testing.T) {
	tmpl := syncTemplate(t)

	t.Run("plan run history", func(t *testing.T) {
		dir := copyProject(t, tmpl)
		srv := crmServer(t)
		audience := vipAudience(t, dir)
		n := int64(len(audience))
		holdout := duckCount(t, dir, "SELECT COUNT(*) FROM cdp.customer_segments WHERE segment = 'vip_customers' AND in_holdout")
		var runIDs []string // in run order

		// plan: three `+` samples from the audience, the rest counted, and the totals.
		r := mustCDP(t, 0, "--project", dir, "sync", "plan", "vip_to_crm")
		p := parsePlans(t, r.stdout)["vip_to_crm"]
		if p.mode != "mirror" || p.dest != "crm_webhook" || len(p.samples) != 3 || p.more != n-3 ||
			p.add != n || p.change != 0 || p.remove != 0 || p.holdout != holdout || p.skipped != holdout {
			t.Errorf("plan: %+v, want %d to add, 3 samples, %d in holdout\n%s", p, n, holdout, r.stdout)
		}
		for _, s := range p.samples {
			if _, ok := audience[strings.TrimPrefix(s, "+ ")]; !ok || !strings.HasPrefix(s, "+ ") {
				t.Errorf("plan sample %q is not an add of an audience member", s)
			}
		}
		if want := fmt.Sprintf("  %d to add, 0 to change, 0 to remove; %d skipped", n, holdout); !strings.Contains(r.stdout, want) {
			t.Errorf("plan has no line %q:\n%s", want, r.stdout)
		}
		// --detailed-exitcode: 3 with changes, silently; the flag may follow the sync name.
		r = mustCDP(t, exitChanges, "--project", dir, "sync", "plan", "--detailed-exitcode", "vip_to_crm")
		if r.stderr != "" || !strings.Contains(r.stdout, "to add") {
			t.Errorf("plan --detailed-exitcode: stderr %q\n%s", r.stderr, r.stdout)
		}
		mustCDP(t, exitChanges, "--project", dir, "sync", "plan", "vip_to_crm", "--detailed-exitcode")
		mustCDP(t, exitChanges, "--project", dir, "sync", "plan", "vip_to_crm", "--samples", "1", "--detailed-exitcode")
		// --json: one document with the counts.
		r = mustCDP(t, 0, "--project", dir, "sync", "plan", "--json", "vip_to_crm", "--samples", "2")
		var doc struct {
			Changes bool `json:"changes"`
			Plans   []struct {
				Sync   string `json:"sync"`
				Mode   string `json:"mode"`
				Counts struct {
					Add       int64 `json:"add"`
					Holdout   int64 `json:"holdout"`
					Delivered int64 `json:"delivered"`
				} `json:"counts"`
				Samples []struct {
					Op     string         `json:"op"`
					Key    string         `json:"key"`
					Fields map[string]any `json:"fields"`
				} `json:"samples"`
			} `json:"plans"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatalf("plan --json: %v\n%s", err, r.stdout)
		}
		if !doc.Changes || len(doc.Plans) != 1 || doc.Plans[0].Sync != "vip_to_crm" || doc.Plans[0].Counts.Add != n ||
			doc.Plans[0].Counts.Holdout != holdout || doc.Plans[0].Counts.Delivered != 0 || len(doc.Plans[0].Samples) != 2 {
			t.Errorf("plan --json: %+v", doc)
		}
		for _, s := range doc.Plans[0].Samples {
			if _, ok := s.Fields["lifetime_value"].(float64); !ok || s.Op != "add" || s.Fields["email"] != s.Key {
				t.Errorf("plan --json sample: %+v (lifetime_value must be a number)", s)
			}
		}
		// Every sync is planned by default, and planning sends nothing.
		r = mustCDP(t, 0, "--project", dir, "sync", "plan")
		if got := parsePlans(t, r.stdout); len(got) != 5 || got["customers_export"].add != duckCount(t, dir, "SELECT COUNT(*) FROM cdp.customer_profiles") {
			t.Errorf("plan of every sync:\n%s", r.stdout)
		}
		if srv.Requests() != 0 {
			t.Fatalf("plan sent %d requests", srv.Requests())
		}
		if n := duckCount(t, dir, "SELECT COUNT(*) FROM cdp.cdp_sync_state"); n != 0 {
			t.Errorf("plan committed %d state rows", n)
		}

		// run: the destination then holds exactly the audience.
		r = mustCDP(t, 0, "--project", dir, "sync", "run", "vip_to_crm")
		res := parseRun(t, r.stdout)["vip_to_crm"]
		if res.status != "success" || res.added != n || res.changed+res.removed+res.failed != 0 || res.skips != holdout || res.requests < 1 {
			t.Errorf("first run: %+v, want %d added\n%s", res, n, r.stdout)
		}
		runIDs = append(runIDs, res.runID)
		checkHolds(t, srv, audience)
		t.Run("decimals are numbers", func(t *testing.T) {
			for k, f := range srv.State() {
				switch v := f["lifetime_value"].(type) {
				case float64:
				case map[string]any:
					t.Fatalf("%s: lifetime_value %v", k, v)
				default:
					t.Fatalf("%s: lifetime_value %v (%T), want a number", k, v, v)
				}
			}
		})
		t.Run("profile shows sync status", func(t *testing.T) {
			var key string
			for k := range audience {
				key = k
				break
			}
			r := mustCDP(t, 0, "--project", dir, "--json", "profile", "email:"+key)
			var v struct {
				Syncs []struct {
					Sync      string  `json:"sync"`
					Key       *string `json:"key"`
					Delivered bool    `json:"delivered"`
				} `json:"syncs"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, s := range v.Syncs {
				if s.Sync == "vip_to_crm" {
					found = true
					if !s.Delivered || s.Key == nil || *s.Key != key {
						t.Errorf("vip_to_crm status for %s: %+v", key, s)
					}
				}
				if s.Sync == "vip_to_ops_db" && s.Delivered {
					t.Errorf("vip_to_ops_db never ran, yet shows delivered")
				}
			}
			if !found {
				t.Errorf("no vip_to_crm status in %s", r.stdout)
			}
		})
		if n := duckCount(t, dir, "SELECT COUNT(*) FROM cdp.cdp_sync_state WHERE sync = 'vip_to_crm'"); n != int64(len(audience)) {
			t.Errorf("cdp_sync_state holds %d rows, want %d", n, len(audience))
		}
		// A second run, and the plan after it, find nothing to do.
		reqs := srv.Requests()
		mustCDP(t, 0, "--project", dir, "sync", "plan", "--detailed-exitcode", "vip_to_crm")
		r = mustCDP(t, 0, "--project", dir, "sync", "run", "vip_to_crm")
		res = parseRun(t, r.stdout)["vip_to_crm"]
		if res.status != "success" || res.added+res.changed+res.removed+res.failed != 0 || res.requests != 0 {
			t.Errorf("second run: %+v\n%s", res, r.stdout)
		}
		runIDs = append(runIDs, res.runID)
		if srv.Requests() != reqs {
			t.Errorf("the second run sent %d requests", srv.Requests()-reqs)
		}

		// --full resends everything, as changes; --json prints progress and result events.
		ops := len(srv.Ops())
		r = mustCDP(t, 0, "--project", dir, "sync", "run", "--full", "--json", "vip_to_crm")
		var result map[string]any
		for _, ev := range jsonLines(t, r.stdout) {
			switch ev["event"] {
			case "progress":
				if p, _ := ev["progress"].(map[string]any); p["sync"] != "vip_to_crm" || p["planned"] != float64(n) {
					t.Errorf("progress event: %v", ev)
				}
			case "result":
				if result != nil {
					t.Errorf("two result events")
				}
				result = ev
			default:
				t.Errorf("unexpected event %v", ev)
			}
		}
		rr, _ := result["result"].(map[string]any)
		if result == nil || result["error"] != "" || rr["status"] != "success" || rr["changed"] != float64(n) || rr["added"] != float64(0) {
			t.Fatalf("--full --json result: %v\n%s", result, r.stdout)
		}
		runIDs = append(runIDs, rr["run_id"].(string))
		newOps := srv.Ops()[ops:]
		if len(newOps) != int(n) {
			t.Errorf("--full sent %d records, want %d", len(newOps), n)
		}
		for _, o := range newOps {
			if o.Op != "change" {
				t.Errorf("--full sent %s %s, want change", o.Op, o.Key)
			}
		}
		checkHolds(t, srv, audience)

		// --baseline marks every profile delivered to the file destination without writing a file.
		r = mustCDP(t, 0, "--project", dir, "sync", "run", "--baseline", "customers_export")
		profiles := duckCount(t, dir, "SELECT COUNT(*) FROM cdp.customer_profiles")
		res = parseRun(t, r.stdout)["customers_export"]
		if res.status != "baseline" || res.added != profiles || res.requests != 0 {
			t.Errorf("--baseline: %+v, want %d added\n%s", res, profiles, r.stdout)
		}
		runIDs = append(runIDs, res.runID)
		if files, _ := exportLines(t, dir, "customers_export"); files != 0 {
			t.Errorf("--baseline wrote %d files", files)
		}
		r = mustCDP(t, 0, "--project", dir, "sync", "plan", "--detailed-exitcode", "customers_export")
		if p := parsePlans(t, r.stdout)["customers_export"]; p.add+p.change+p.remove != 0 || len(p.samples) != 0 {
			t.Errorf("plan after --baseline: %+v", p)
		}
		// --full then writes every profile to one JSON Lines file under .cdp/exports.
		r = mustCDP(t, 0, "--project", dir, "sync", "run", "customers_export", "--full")
		res = parseRun(t, r.stdout)["customers_export"]
		runIDs = append(runIDs, res.runID)
		if files, lines := exportLines(t, dir, "customers_export"); res.changed != profiles || files != 1 || lines != int(profiles) {
			t.Errorf("--full to the file destination: %+v, %d files with %d lines, want %d", res, files, lines, profiles)
		}
		if _, err := os.Stat(filepath.Join(dir, ".cdp", "exports", "customers_export", res.runID+".jsonl")); err != nil {
			t.Errorf("the export file is not named after the run: %v", err)
		}
		r = mustCDP(t, 2, "--project", dir, "sync", "run", "--full", "--baseline", "vip_to_crm")
		if !strings.Contains(r.stderr, "--full and --baseline exclude each other") {
			t.Errorf("--full --baseline: %q", r.stderr)
		}

		// history: newest first, with counts.
		r = mustCDP(t, 0, "--project", dir, "sync", "history")
		hist := parseHistory(t, r.stdout)
		if len(hist) != len(runIDs) {
			t.Fatalf("history has %d runs, want %d:\n%s", len(hist), len(runIDs), r.stdout)
		}
		for i, h := range hist {
			if want := runIDs[len(runIDs)-1-i]; h.runID != want {
				t.Errorf("history row %d is %s, want %s (newest first)", i, h.runID, want)
			}
		}
		if h := hist[len(hist)-1]; h.sync != "vip_to_crm" || h.status != "success" || h.added != n {
			t.Errorf("oldest history row: %+v", h)
		}
		if h := hist[1]; h.sync != "customers_export" || h.status != "baseline" || h.added != profiles {
			t.Errorf("baseline history row: %+v", h)
		}
		r = mustCDP(t, 0, "--project", dir, "sync", "history", "--limit", "2")
		if got := parseHistory(t, r.stdout); len(got) != 2 || got[0].runID != runIDs[len(runIDs)-1] {
			t.Errorf("history --limit 2:\n%s", r.stdout)
		}
		r = mustCDP(t, 0, "--project", dir, "sync", "history", "vip_to_crm", "--json")
		var hdoc struct {
			Runs []struct {
				RunID    string     `json:"run_id"`
				Sync     string     `json:"sync"`
				Status   string     `json:"status"`
				Added    int64      `json:"added"`
				Changed  int64      `json:"changed"`
				Started  time.Time  `json:"started_at"`
				Finished *time.Time `json:"finished_at"`
			} `json:"runs"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &hdoc); err != nil {
			t.Fatalf("history --json: %v\n%s", err, r.stdout)
		}
		if len(hdoc.Runs) != 3 || hdoc.Runs[0].RunID != runIDs[2] || hdoc.Runs[0].Changed != n || hdoc.Runs[2].Added != n {
			t.Errorf("history vip_to_crm --json: %+v", hdoc)
		}
		for _, h := range hdoc.Runs {
			if h.Sync != "vip_to_crm" || h.Finished == nil || h.Finished.Before(h.Started) {
				t.Errorf("history --json run: %+v", h)
			}
		}

		// Unknown syncs are usage errors.
		for _, cmd := range [][]string{{"plan", "nope"}, {"run", "vip_to_crm", "nope"}, {"history", "nope"}} {
			r := mustCDP(t, 2, append([]string{"--project", dir, "sync"}, cmd...)...)
			if !strings.Contains(r.stderr, `unknown sync "nope" (known: vip_to_crm, customers_export, vip_to_ops_db, vips_to_hubspot, newsletter_to_klaviyo)`) {
				t.Errorf("sync %v: %q", cmd, r.stderr)
			}
		}
		for _, c := range []struct {
			args []string
			msg  string
		}{
			{[]string{"history", "vip_to_crm", "customers_export"}, "history takes at most one SYNC"},
			{[]string{"history", "--limit", "0"}, "--limit must be at least 1"},
			{[]string{"plan", "vip_to_crm", "--frobnicate"}, "flag provided but not defined: -frobnicate"},
			{[]string{"plan", "--samples", "-1"}, "--samples must be 0 or more"},
			{[]string{"run", "--all", "vip_to_crm"}, "--all and SYNC names exclude each other"},
			{[]string{"run", "vip_to_crm", "--wait", "-1s"}, "--wait must not be negative"},
			{[]string{"run", "vip_to_crm", "--lock-ttl", "1ms"}, "--lock-ttl must be at least 1s"},
		} {
			r := mustCDP(t, 2, append([]string{"--project", dir, "sync"}, c.args...)...)
			if !strings.Contains(r.stderr, c.msg) {
				t.Errorf("sync %v: stderr %q, want %q", c.args, r.stderr, c.msg)
			}
		}
		// --samples 0: counts only.
		r = mustCDP(t, 0, "--project", dir, "sync", "plan", "--full", "vip_to_crm", "--samples", "0")
		if want := fmt.Sprintf("sync vip_to_crm (mirror → crm_webhook)\n  0 to add, %d to change, 0 to remove; %d skipped (holdout %d, null key 0, duplicate key 0, not in mode 0)\n", n, holdout, holdout); r.stdout != want {
			t.Errorf("plan --full --samples 0:\n%s\nwant\n%s", r.stdout, want)
		}
		if srv.Requests() != reqs+1 || len(srv.Violations()) != 0 {
			t.Errorf("server: %+v, violations %v", srv.Stats(), srv.Violations())
		}
	})

	t.Run("rejections", func(t *testing.T) {
		dir := copyProject(t, tmpl)
		srv := crmServer(t)
		audience := vipAudience(t, dir)
		srv.SetFaults(destinationtest.Faults{RejectRate: 0.3, Seed: 7})
		r := mustCDP(t, 1, "--project", dir, "sync", "run", "vip_to_crm")
		res := parseRun(t, r.stdout)["vip_to_crm"]
		rejected := int64(srv.Stats().Rejected)
		if res.status != "partial" || rejected == 0 || res.failed != rejected || res.added != int64(len(audience))-rejected {
			t.Fatalf("run with rejections: %+v, server rejected %d\n%s", res, rejected, r.stdout)
		}
		if !strings.Contains(r.stderr, "did not deliver everything: vip_to_crm") {
			t.Errorf("stderr does not name the sync: %q", r.stderr)
		}
		if n := duckCount(t, dir, "SELECT COUNT(*) FROM cdp.cdp_sync_rejections WHERE sync = 'vip_to_crm' AND run_id = '"+res.runID+"'"); n != rejected {
			t.Errorf("cdp_sync_rejections holds %d rows of the run, want %d", n, rejected)
		}
		if len(srv.State()) != len(audience)-int(rejected) {
			t.Errorf("destination holds %d records", len(srv.State()))
		}
		// Without faults, the next run delivers exactly the rejected records.
		srv.SetFaults(destinationtest.Faults{})
		r = mustCDP(t, 0, "--project", dir, "sync", "run", "vip_to_crm")
		if res := parseRun(t, r.stdout)["vip_to_crm"]; res.status != "success" || res.added != rejected || res.failed != 0 {
			t.Errorf("retry run: %+v, want %d added", res, rejected)
		}
		checkHolds(t, srv, audience)
		hist := parseHistory(t, mustCDP(t, 0, "--project", dir, "sync", "history", "vip_to_crm").stdout)
		if len(hist) != 2 || hist[0].status != "success" || hist[1].status != "partial" || hist[1].failed != rejected {
			t.Errorf("history: %+v", hist)
		}
	})

	t.Run("lock", func(t *testing.T) {
		dir := copyProject(t, tmpl)
		srv := crmServer(t)
		mustCDP(t, 0, "--project", dir, "sync", "history") // creates the sync tables
		utc := func(d time.Duration) string {
			return "TIMESTAMP '" + time.Now().UTC().Add(d).Format("2006-01-02 15:04:05") + "'"
		}
		duckExec(t, dir, "INSERT INTO cdp.cdp_sync_locks VALUES ('vip_to_crm', 'elsewhere:1:r1', 'r1', "+utc(0)+", "+utc(time.Hour)+")")
		start := time.Now()
		r := mustCDP(t, 1, "--project", dir, "sync", "run", "vip_to_crm", "--wait", "300ms")
		if time.Since(start) < 300*time.Millisecond || !strings.Contains(r.stderr, "another run of this sync is in progress (held by elsewhere:1:r1") ||
			!strings.Contains(r.stderr, "did not deliver everything: vip_to_crm") {
			t.Errorf("run against a held lock: stderr %q", r.stderr)
		}
		r = mustCDP(t, 1, "--project", dir, "--json", "sync", "run", "vip_to_crm")
		if ev := jsonLines(t, r.stdout); len(ev) != 1 || ev[0]["event"] != "result" || ev[0]["result"] != nil ||
			!strings.Contains(ev[0]["error"].(string), "another run of this sync is in progress") {
			t.Errorf("--json run against a held lock: %v", ev)
		}
		if srv.Requests() != 0 {
			t.Errorf("a locked-out run sent %d requests", srv.Requests())
		}
		// An expired lease is taken over.
		duckExec(t, dir, "UPDATE cdp.cdp_sync_locks SET expires_at = "+utc(-time.Minute))
		mustCDP(t, 0, "--project", dir, "sync", "run", "vip_to_crm", "--lock-ttl", "1m")
		checkHolds(t, srv, vipAudience(t, dir))
	})

	t.Run("max_removals", func(t *testing.T) {
		dir := copyProject(t, tmpl)
		srv := crmServer(t)
		edit(t, dir, "models/syncs.yml", "max_removals: 20%", "max_removals: 1")
		audience := vipAudience(t, dir)
		mustCDP(t, 0, "--project", dir, "sync", "run", "vip_to_crm")
		checkHolds(t, srv, audience)
		reqs := srv.Requests()

		// The segment empties: every delivered record would be removed.
		edit(t, dir, "models/segments.yml", "- { trait: is_vip, eq: true }", "- { trait: lifetime_value, gt: 1e12 }")
		mustCDP(t, 0, "--project", dir, "--as-of", asOf, "run", "segment.vip_customers")
		if n := duckCount(t, dir, "SELECT COUNT(*) FROM cdp.customer_segments WHERE segment = 'vip_customers'"); n != 0 {
			t.Fatalf("the segment still has %d members", n)
		}
		r := mustCDP(t, 0, "--project", dir, "sync", "plan", "vip_to_crm")
		if p := parsePlans(t, r.stdout)["vip_to_crm"]; p.remove != int64(len(audience)) || !p.blocked {
			t.Errorf("plan: %+v, want %d removals and the guard's warning\n%s", p, len(audience), r.stdout)
		}
		r = mustCDP(t, 1, "--project", dir, "sync", "run", "vip_to_crm")
		if !strings.Contains(r.stderr, "max_removals") || !strings.Contains(r.stderr, "vip_to_crm") {
			t.Errorf("stderr does not explain the abort: %q", r.stderr)
		}
		if res := parseRun(t, r.stdout)["vip_to_crm"]; res.status != "aborted" || res.removed != 0 {
			t.Errorf("aborted run: %+v", res)
		}
		if srv.Requests() != reqs {
			t.Errorf("the aborted run sent %d requests", srv.Requests()-reqs)
		}
		checkHolds(t, srv, audience)
		hist := parseHistory(t, mustCDP(t, 0, "--project", dir, "sync", "history", "vip_to_crm").stdout)
		if len(hist) != 2 || hist[0].status != "aborted" || !strings.Contains(hist[0].errLine, "max_removals") {
			t.Errorf("history: %+v", hist)
		}
	})
}

// TestSyncHistoryEmpty: a fresh project has no sync runs yet.
func TestSyncHistoryEmpty(t *testing.T) {
	dir := newProject(t)
	r := mustCDP(t, 0, "--project", dir, "sync", "history")
	if r.stdout != "no sync runs recorded yet\n" {
		t.Errorf("history of a fresh project: %q", r.stdout)
	}
	r = mustCDP(t, 0, "--project", dir, "--json", "sync", "history", "vip_to_crm")
	if !strings.Contains(r.stdout, `"runs": []`) {
		t.Errorf("history --json of a fresh project: %q", r.stdout)
	}
	mustCDP(t, 2, "--project", dir, "sync", "history", "--limit", "0")
}

// TestValidateDestinations checks destinations against the settings their
// type registered.
func TestValidateDestinations(t *testing.T) {
	dir := newProject(t)
	edit(t, dir, "models/syncs.yml", "    url: \"${CRM_HOOK_URL:-http://127.0.0.1:8787/hooks/crm}\"\n", "")
	edit(t, dir, "models/syncs.yml", "    batch_size: 100\n", "    batch_size: 100\n    batchsize: 50\n")
	edit(t, dir, "models/syncs.yml", "type: file", "type: fiel")
	crm := position(t, dir, "models/syncs.yml", "name: crm_webhook", 0)
	batch := valuePosition(t, dir, "models/syncs.yml", "batchsize: ")
	files := position(t, dir, "models/syncs.yml", "name: audit_files", 0)
	want := []string{
		crm + ": error: destination `crm_webhook`: a webhook destination needs `url` (hint: add `url: https://hooks.example.com/cdp` (where batches are POSTed))",
		batch + ": error: destination `crm_webhook`: unknown setting `batchsize` for a webhook destination (hint: did you mean `batch_size`? webhook accepts url, secret, batch_size, timeout, concurrency, rate_limit)",
		files + ": error: unknown destination type `fiel` in destination `audit_files` (hint: did you mean `file`? known types: braze, customerio, file, google_data_manager, hubspot, intercom, iterable, klaviyo, mailchimp, meta_custom_audience, postgres_table, salesforce, webhook (`cdp destinations` describes each))",
		"error: 3 error(s) in the project; fix them and retry",
	}
	r := mustCDP(t, 2, "--project", dir, "validate")
	if got := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n"); !slices.Equal(got, want) || r.stdout != "" {
		t.Errorf("validate:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	r = mustCDP(t, 2, "--project", dir, "--json", "validate")
	var doc struct {
		OK          bool `json:"ok"`
		Diagnostics []struct {
			File     string `json:"file"`
			Line     int    `json:"line"`
			Col      int    `json:"col"`
			Severity string `json:"severity"`
			Message  string `json:"message"`
		} `json:"diagnostics"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || doc.OK || len(doc.Diagnostics) != 3 {
		t.Fatalf("validate --json: %v\n%s", err, r.stdout)
	}
	for i, sev := range []string{"error", "error", "error"} {
		d := doc.Diagnostics[i]
		if got := d.File + ":" + itoa(d.Line) + ":" + itoa(d.Col); d.Severity != sev || !strings.HasPrefix(want[i], got+": ") {
			t.Errorf("JSON diagnostic %d: %+v", i, d)
		}
	}
	// The sync commands refuse the project too.
	r = mustCDP(t, 2, "--project", dir, "sync", "plan")
	if !strings.Contains(r.stderr, want[0]) {
		t.Errorf("sync plan does not print the diagnostics: %q", r.stderr)
	}

	// An empty required value is an error at the value; so is an unknown setting alone.
	edit(t, dir, "models/syncs.yml", "type: fiel", "type: file")
	edit(t, dir, "models/syncs.yml", "    batch_size: 100\n", "    batch_size: 100\n    url: \"${CRM_HOOK_URL:-}\"\n")
	t.Setenv("CRM_HOOK_URL", "")
	r = mustCDP(t, 2, "--project", dir, "validate")
	url := valuePosition(t, dir, "models/syncs.yml", "    url: ")
	if !strings.HasPrefix(r.stderr, url+": error: destination `crm_webhook`: setting `url` of a webhook destination is empty") {
		t.Errorf("empty url: %q", r.stderr)
	}
	t.Setenv("CRM_HOOK_URL", "http://127.0.0.1:1/hook")
	r = mustCDP(t, 2, "--project", dir, "validate")
	batch = valuePosition(t, dir, "models/syncs.yml", "batchsize: ")
	if r.stderr != batch+": error: destination `crm_webhook`: unknown setting `batchsize` for a webhook destination (hint: did you mean `batch_size`? webhook accepts url, secret, batch_size, timeout, concurrency, rate_limit)\nerror: 1 error(s) in the project; fix them and retry\n" {
		t.Errorf("validate with an unknown setting:\nstdout %q\nstderr %q", r.stdout, r.stderr)
	}
}

// valuePosition is the file:line:col of the value after the first
// occurrence of key (which ends where the value starts).
func valuePosition(t *testing.T, dir, file, key string) string {
	t.Helper()
	p := position(t, dir, file, key, 0)
	i := strings.LastIndex(p, ":")
	col, _ := strconv.Atoi(p[i+1:])
	return p[:i+1] + itoa(col+len(key))
}

func TestCommandFlagsFirst(t *testing.T) {
	cmds := newApp(io.Discard, io.Discard, new(bool)).Commands
	for _, c := range []struct{ in, want string }{
		{"cdp sync plan vip --detailed-exitcode", "cdp sync plan --detailed-exitcode vip"},
		{"cdp --json sync plan a b --samples 5 --full", "cdp --json sync plan --samples 5 --full a b"},
		{"cdp -p x sync run a --wait 1m b --lock-ttl=2m", "cdp -p x sync run --wait 1m --lock-ttl=2m a b"},
		{"cdp sync history a --limit 3", "cdp sync history --limit 3 a"},
		{"cdp sync run a -- --full", "cdp sync run a -- --full"},
		{"cdp sync plan a --frobnicate", "cdp sync plan --frobnicate a"},
		{"cdp sync plan a --samples", "cdp sync plan --samples a"},
		{"cdp profile email:a@b.c", "cdp profile email:a@b.c"},
		{"cdp sync", "cdp sync"},
		{"cdp compile +segment.a", "cdp compile +segment.a"},
	} {
		if got := strings.Join(commandFlagsFirst(cmds, strings.Fields(c.in)), " "); got != c.want {
			t.Errorf("commandFlagsFirst(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestProgressText(t *testing.T) {
	for _, c := range []struct {
		p    engine.Progress
		want string
	}{
		{engine.Progress{Planned: 5000, Done: 1200, Elapsed: 1500 * time.Millisecond, Stats: delivery.Stats{Retries: 3}},
			"1200/5000 records (24%), 800 rows/s, ETA 5s, 3 retries   "},
		{engine.Progress{Planned: 100, Done: 100, Failed: 7, Elapsed: 2 * time.Second},
			"100/100 records (100%), 50 rows/s, ETA 0s, 7 failed   "},
		{engine.Progress{Planned: 10, Elapsed: time.Second}, "0/10 records (0%)   "},
	} {
		if got := progressText(c.p); got != c.want {
			t.Errorf("progressText(%+v) = %q, want %q", c.p, got, c.want)
		}
	}
}

// A paused sync is skipped by `sync run` (named or not) without an error and
// without touching its state or history.
func TestSyncRunSkipsPaused(t *testing.T) {
	dir := newProject(t)
	r := mustCDP(t, 0, "--project", dir, "sync", "run", "vip_to_ops_db")
	if !strings.Contains(r.stdout, "sync vip_to_ops_db skipped: the sync is paused") {
		t.Errorf("want a skipped line, got %q", r.stdout)
	}
	r = mustCDP(t, 0, "--project", dir, "--json", "sync", "run", "vip_to_ops_db")
	if !strings.Contains(r.stdout, `"event":"skipped"`) {
		t.Errorf("want a skipped JSON event, got %q", r.stdout)
	}
	r = mustCDP(t, 0, "--project", dir, "sync", "history", "vip_to_ops_db")
	if r.stdout != "no sync runs recorded yet\n" {
		t.Errorf("a paused sync must not write history: %q", r.stdout)
	}
}
