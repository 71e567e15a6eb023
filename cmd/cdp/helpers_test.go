package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/internal/pgtest"
	"github.com/cdpkit/cdp/warehouse/duckdb"
)

// TestMain stops the PostgreSQL server pgtest may start for this package.
func TestMain(m *testing.M) { pgtest.Main(m) }

// asOf is the instant the retail example's data ends: runs evaluated then are
// the same whatever today's date is.
const asOf = "2026-11-01"

// result is what one in-process `cdp` invocation gave.
type result struct {
	stdout, stderr string
	code           int
}

// cdp runs the CLI in-process with args (without the leading "cdp").
func cdp(t *testing.T, args ...string) result {
	t.Helper()
	var out, errw bytes.Buffer
	start := time.Now()
	code := run(append([]string{"cdp"}, args...), &out, &errw)
	t.Logf("%6.2fs cdp %s", time.Since(start).Seconds(), strings.Join(args, " "))
	return result{out.String(), errw.String(), code}
}

// mustCDP runs the CLI and fails the test unless it exits with want.
func mustCDP(t *testing.T, want int, args ...string) result {
	t.Helper()
	r := cdp(t, args...)
	if r.code != want {
		t.Fatalf("cdp %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, want, tail(r.stdout, 3000), r.stderr)
	}
	return r
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// cleanEnv unsets the variables the CLI reads, so a developer's shell cannot
// change what the tests see; they are restored when the test ends.
func cleanEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"CDP_PROJECT", "CDP_TARGET", "CDP_AS_OF", "CDP_POSTGRES_DSN"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// newProject scaffolds the retail example with `cdp init` into a fresh
// temporary folder and returns its path.
func newProject(t *testing.T) string {
	t.Helper()
	cleanEnv(t)
	dir := filepath.Join(t.TempDir(), "shop")
	mustCDP(t, 0, "init", dir)
	return dir
}

// demo reads a key of the example's testdata/demo.txt.
func demo(t *testing.T, key string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "retail", "testdata", "demo.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+"="); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("demo.txt has no %s", key)
	return ""
}

// edit replaces old by new in a project file, exactly once.
func edit(t *testing.T, dir, file, old, new string) {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(file))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), old); n != 1 {
		t.Fatalf("%s: %q occurs %d times, want once", file, old, n)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// position returns `file:line:col` of the first occurrence of marker in a
// project file on a line after afterLine, with 1-based line and column as in
// diagnostics.
func position(t *testing.T, dir, file, marker string, afterLine int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(file)))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(b), "\n") {
		if j := strings.Index(line, marker); j >= 0 && i+1 > afterLine {
			return file + ":" + itoa(i+1) + ":" + itoa(j+1)
		}
	}
	t.Fatalf("%s: no %q after line %d", file, marker, afterLine)
	return ""
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// lineOf returns the 1-based line of the first line of file matching re.
func lineOf(t *testing.T, dir, file string, re *regexp.Regexp) int {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(file)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if re.MatchString(sc.Text()) {
			return n
		}
	}
	t.Fatalf("%s: no line matches %s", file, re)
	return 0
}

var entryName = regexp.MustCompile(`^  - name: (\w+)`)

// declared lists the `- name:` entries of a model file in order, with their lines.
func declared(t *testing.T, dir, file string) (names []string, lines []int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(file)))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(b), "\n") {
		if m := entryName.FindStringSubmatch(line); m != nil {
			names = append(names, m[1])
			lines = append(lines, i+1)
		}
	}
	if len(names) == 0 {
		t.Fatalf("%s declares nothing", file)
	}
	return names, lines
}

// csvRows counts the data rows of a seed CSV.
func csvRows(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return len(recs) - 1
}

// runRow is one row of cdp_runs.
type runRow struct {
	status   string
	errMsg   sql.NullString
	finished sql.NullTime
	nodes    sql.NullString
}

// duckRuns reads cdp.cdp_runs of the project's DuckDB file, by run ID.
func duckRuns(t *testing.T, dir string) map[string]runRow {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w, err := duckdb.Open(ctx, filepath.Join(dir, ".cdp", "retail.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	rows, err := w.Query(ctx, `SELECT run_id, status, error, finished_at, nodes FROM "cdp"."cdp_runs"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]runRow{}
	for rows.Next() {
		var id string
		var r runRow
		if err := rows.Scan(&id, &r.status, &r.errMsg, &r.finished, &r.nodes); err != nil {
			t.Fatal(err)
		}
		out[id] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// duckCount runs a COUNT query on the project's DuckDB file.
func duckCount(t *testing.T, dir, query string) int64 {
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
		t.Fatal(err)
	}
	defer rows.Close()
	var n int64
	if !rows.Next() {
		t.Fatalf("%s: no row (%v)", query, rows.Err())
	}
	if err := rows.Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// jsonLines decodes every line of out as a JSON object.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var res []map[string]any
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", line, err)
		}
		res = append(res, m)
	}
	return res
}

// runSummary is the JSON summary event of `cdp --json run`.
type runSummary struct {
	Event string `json:"event"`
	Run   struct {
		RunID  string `json:"run_id"`
		Status string `json:"status"`
		Error  string `json:"error"`
		Nodes  []struct {
			Node   string  `json:"node"`
			Status string  `json:"status"`
			Rows   int64   `json:"rows"`
			Secs   float64 `json:"seconds"`
		} `json:"nodes"`
	} `json:"run"`
	Profiles int64 `json:"profiles"`
	Segments []struct {
		Segment string `json:"segment"`
		Members int64  `json:"members"`
		Holdout int64  `json:"in_holdout"`
	} `json:"segments"`
}

// lastSummary decodes the last line of a `--json run` output.
func lastSummary(t *testing.T, out string) runSummary {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	var s runSummary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
		t.Fatalf("summary line: %v\n%s", err, lines[len(lines)-1])
	}
	if s.Event != "summary" {
		t.Fatalf("last line is %q, want the summary event", s.Event)
	}
	return s
}

// profileView is the JSON of `cdp --json profile`.
type profileView struct {
	ProfileID   string `json:"profile_id"`
	Identifiers []struct {
		Type        string `json:"id_type"`
		Value       string `json:"id_value"`
		SourceCount int64  `json:"source_count"`
	} `json:"identifiers"`
	Traits []struct {
		Name  string `json:"name"`
		Value any    `json:"value"`
	} `json:"traits"`
	Segments []struct {
		Segment   string `json:"segment"`
		InHoldout bool   `json:"in_holdout"`
		EnteredAt string `json:"entered_at"`
	} `json:"segments"`
}

func decodeProfile(t *testing.T, out string) profileView {
	t.Helper()
	var v profileView
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("profile JSON: %v\n%s", err, out)
	}
	return v
}

func (v profileView) trait(name string) any {
	for _, tr := range v.Traits {
		if tr.Name == name {
			return tr.Value
		}
	}
	return "<missing>"
}

func (v profileView) hasIdentifier(typ, value string) bool {
	for _, x := range v.Identifiers {
		if x.Type == typ && x.Value == value {
			return true
		}
	}
	return false
}
