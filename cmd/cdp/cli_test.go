package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cdpkit/cdp/examples/retail"
)

func TestInitCreatesAValidProject(t *testing.T) {
	cleanEnv(t)
	dir := filepath.Join(t.TempDir(), "shop")
	r := mustCDP(t, 0, "init", dir)
	if !strings.Contains(r.stdout, "created "+dir) {
		t.Errorf("init output does not name the folder:\n%s", r.stdout)
	}
	for _, f := range []string{"cdp.yml", "README.md", "models/sources.yml", "models/identity.yml",
		"models/traits.yml", "models/segments.yml", "seeds/crm_contacts.csv", "seeds/web_events.csv"} {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f))); err != nil {
			t.Errorf("init did not create %s: %v", f, err)
		}
	}

	r = mustCDP(t, 0, "--project", dir, "validate")
	if !strings.HasPrefix(r.stdout, "ok: 6 sources, ") || r.stderr != "" {
		t.Errorf("validate of a fresh project:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
	}
	// Global flags are accepted after the command name too, and from CDP_PROJECT.
	mustCDP(t, 0, "validate", "-p", dir)
	t.Setenv("CDP_PROJECT", dir)
	mustCDP(t, 0, "validate")

	r = mustCDP(t, 0, "--json", "validate")
	var doc struct {
		OK          bool  `json:"ok"`
		Diagnostics []any `json:"diagnostics"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || !doc.OK || doc.Diagnostics == nil || len(doc.Diagnostics) != 0 {
		t.Errorf("--json validate: %+v, %v\n%s", doc, err, r.stdout)
	}

	// --json init prints one document.
	other := filepath.Join(t.TempDir(), "other")
	r = mustCDP(t, 0, "--json", "init", other)
	var created struct {
		Created string `json:"created"`
		Files   int    `json:"files"`
	}
	files := 0
	if err := fs.WalkDir(retail.Files, ".", func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files++
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(r.stdout), &created); err != nil || created.Created != other || created.Files != files {
		t.Errorf("--json init: %+v, %v\n%s", created, err, r.stdout)
	}
}

// TestInitBlank: `cdp init --blank` gives an empty project that validates
// and runs (no profiles yet), named after its folder.
func TestInitBlank(t *testing.T) {
	cleanEnv(t)
	dir := filepath.Join(t.TempDir(), "My-Shop")
	mustCDP(t, 0, "init", "--blank", dir)
	b, err := os.ReadFile(filepath.Join(dir, "cdp.yml"))
	if err != nil || !strings.Contains(string(b), "name: my_shop\n") {
		t.Fatalf("cdp.yml: %v\n%s", err, b)
	}
	r := mustCDP(t, 0, "--project", dir, "validate")
	if !strings.HasPrefix(r.stdout, "ok: 0 sources, 0 traits, 0 segments, 0 destinations, 0 syncs") {
		t.Errorf("validate of a blank project:\n%s\n%s", r.stdout, r.stderr)
	}
	if r := mustCDP(t, 0, "--project", dir, "run", "--as-of", asOf); !strings.Contains(r.stdout, "profiles: 0") {
		t.Errorf("run of a blank project:\n%s", r.stdout)
	}
	mustCDP(t, 2, "init", "--blank", dir) // not empty any more
}

func TestInitRefusesANonEmptyFolder(t *testing.T) {
	cleanEnv(t)
	dir := t.TempDir()
	keep := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(keep, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustCDP(t, 2, "init", dir)
	if !strings.Contains(r.stderr, "is not empty") {
		t.Errorf("stderr does not explain the refusal: %q", r.stderr)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "notes.txt" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("init wrote into a non-empty folder: %v", names)
	}
	if b, _ := os.ReadFile(keep); string(b) != "mine" {
		t.Errorf("notes.txt changed: %q", b)
	}
	mustCDP(t, 2, "init")                // no DIR
	mustCDP(t, 2, "init", dir, dir+"/x") // two DIRs
}

// TestValidateReportsEveryMistake breaks a copy of the example in four places
// and checks each diagnostic's exact position, in text and JSON.
func TestValidateReportsEveryMistake(t *testing.T) {
	dir := newProject(t)
	// An unknown key.
	edit(t, dir, "models/traits.yml", "    pick: most_frequent          # duplicates disagree",
		"    pikc: most_frequent          # duplicates disagree")
	// An unknown trait in a segment.
	edit(t, dir, "models/segments.yml", "{ trait: store_visits_12m, gte: 3 }", "{ trait: store_visitz_12m, gte: 3 }")
	// A bad duration.
	edit(t, dir, "models/segments.yml", "          within: 7d\n        - event: order_completed",
		"          within: 7days\n        - event: order_completed")
	// A cycle: frequent_refunders now includes lapsed_buyers, which excludes
	// frequent_refunders. It is reported at the reference that closes it.
	edit(t, dir, "models/segments.yml", "        - { trait: refunds_count, gte: 2 }\n",
		"        - { trait: refunds_count, gte: 2 }\n        - { segment: lapsed_buyers }\n")

	lapsed := lineOf(t, dir, "models/segments.yml", regexp.MustCompile(`- name: lapsed_buyers`))
	closing := position(t, dir, "models/segments.yml", "frequent_refunders }", lapsed)
	want := []struct{ pos, msg string }{
		{position(t, dir, "models/segments.yml", "store_visitz_12m", 0), "unknown trait `store_visitz_12m`"},
		{position(t, dir, "models/segments.yml", "7days", 0), "bad duration `7days` for `within`"},
		{closing, "segment reference cycle: frequent_refunders → lapsed_buyers → frequent_refunders"},
		{position(t, dir, "models/traits.yml", "pikc", 0), "unknown key `pikc` in trait `last_name`"},
	}

	r := mustCDP(t, 2, "--project", dir, "validate")
	if r.stdout != "" {
		t.Errorf("validate printed on stdout: %q", r.stdout)
	}
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if len(lines) != len(want)+1 {
		t.Fatalf("stderr has %d lines, want %d diagnostics and a summary:\n%s", len(lines), len(want), r.stderr)
	}
	for i, w := range want {
		prefix := w.pos + ": error: " + w.msg
		if !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("diagnostic %d:\n got %s\nwant %s…", i, lines[i], prefix)
		}
	}
	if last := lines[len(lines)-1]; last != "error: 4 error(s) in the project; fix them and retry" {
		t.Errorf("summary line: %q", last)
	}
	t.Logf("positions: %v", want)

	r = mustCDP(t, 2, "--project", dir, "--json", "validate")
	var doc struct {
		OK          bool `json:"ok"`
		Diagnostics []struct {
			File     string `json:"file"`
			Line     int    `json:"line"`
			Col      int    `json:"col"`
			Severity string `json:"severity"`
			Message  string `json:"message"`
			Hint     string `json:"hint"`
		} `json:"diagnostics"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("--json validate: %v\n%s", err, r.stdout)
	}
	if doc.OK || len(doc.Diagnostics) != len(want) {
		t.Fatalf("--json validate: ok=%v, %d diagnostics, want %d", doc.OK, len(doc.Diagnostics), len(want))
	}
	for i, d := range doc.Diagnostics {
		got := d.File + ":" + itoa(d.Line) + ":" + itoa(d.Col)
		if got != want[i].pos || d.Severity != "error" || d.Message != want[i].msg || d.Hint == "" {
			t.Errorf("JSON diagnostic %d: %+v, want %s %s (with a hint)", i, d, want[i].pos, want[i].msg)
		}
	}
	// Every command refuses a broken project the same way.
	for _, cmd := range []string{"compile", "seed", "run"} {
		r := mustCDP(t, 2, "--project", dir, cmd)
		if !strings.Contains(r.stderr, want[0].pos+": error: ") {
			t.Errorf("%s does not print the diagnostics:\n%s", cmd, r.stderr)
		}
	}
}

var nodeHeader = regexp.MustCompile(`(?m)^-- node: (\S+) \((\S+):(\d+)\)$`)

type header struct {
	id, file string
	line     int
}

func headers(t *testing.T, sql string) []header {
	t.Helper()
	var out []header
	for _, m := range nodeHeader.FindAllStringSubmatch(sql, -1) {
		var n int
		if err := json.Unmarshal([]byte(m[3]), &n); err != nil {
			t.Fatal(err)
		}
		out = append(out, header{m[1], m[2], n})
	}
	return out
}

func ids(hs []header) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.id)
	}
	return out
}

type compiled struct {
	Target  string `json:"target"`
	Dialect string `json:"dialect"`
	Nodes   []struct {
		ID   string   `json:"id"`
		Deps []string `json:"deps"`
		File string   `json:"file"`
		Line int      `json:"line"`
		SQL  string   `json:"sql"`
	} `json:"nodes"`
}

func TestCompile(t *testing.T) {
	dir := newProject(t)
	sources, sourceLines := declared(t, dir, "models/sources.yml")
	segments, segmentLines := declared(t, dir, "models/segments.yml")

	// Every node, in run order: sources, identity, profiles, then segments
	// (each after the segments it references), each under a header naming
	// where it is declared.
	var want []header
	for i, s := range sources {
		want = append(want, header{"source." + s, "models/sources.yml", sourceLines[i]})
	}
	want = append(want,
		header{"identity.customer", "models/identity.yml", 0},
		header{"profiles.customer", "models/traits.yml", 0})
	for i, s := range segments {
		want = append(want, header{"segment." + s, "models/segments.yml", segmentLines[i]})
	}
	want = append(want, header{"consent.customer", "models/consent.yml", 0})
	r := mustCDP(t, 0, "--project", dir, "--as-of", asOf, "compile")
	if !strings.HasPrefix(r.stdout, "-- cdp compile: project retail, target local (duckdb), as of 2026-11-01T00:00:00Z\n") {
		t.Errorf("compile banner: %q", strings.SplitN(r.stdout, "\n", 2)[0])
	}
	var got []header
	for _, h := range headers(t, r.stdout) {
		if !strings.HasPrefix(h.id, "sync.") { // sync nodes come with the sync engine
			got = append(got, h)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("compile printed nodes %v\nwant %v", ids(got), ids(want))
	}
	for i := range want {
		w := want[i]
		if w.line == 0 { // identity and profiles: somewhere in their file
			w.line = got[i].line
		}
		if got[i] != w {
			t.Errorf("header %d: got %+v, want %+v", i, got[i], w)
		}
	}
	if h := got[0]; h.id != "source.crm_contacts" || h.file != "models/sources.yml" {
		t.Errorf("first node: %+v", h)
	}
	if !strings.Contains(r.stdout, `CREATE OR REPLACE VIEW "cdp"."customer_src_crm_contacts"`) {
		t.Errorf("compile output lacks the crm_contacts view")
	}

	// --json: the same nodes with their dependencies and SQL; dependencies come first.
	r = mustCDP(t, 0, "--project", dir, "--as-of", asOf, "compile", "--json")
	var doc compiled
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("--json compile: %v", err)
	}
	if doc.Target != "local" || doc.Dialect != "duckdb" || len(doc.Nodes) < len(want) {
		t.Fatalf("--json compile: target %q dialect %q, %d nodes", doc.Target, doc.Dialect, len(doc.Nodes))
	}
	doc.Nodes = doc.Nodes[:len(got)]
	pos := map[string]int{}
	deps := map[string][]string{}
	for i, n := range doc.Nodes {
		pos[n.ID] = i
		deps[n.ID] = n.Deps
		if n.ID != got[i].id || n.File != got[i].file || n.Line != got[i].line {
			t.Errorf("JSON node %d: %s %s:%d, text says %+v", i, n.ID, n.File, n.Line, got[i])
		}
		if !strings.HasPrefix(n.SQL, "-- node: "+n.ID+" (") || !strings.Contains(n.SQL, "CREATE") {
			t.Errorf("JSON node %s: sql does not hold its statements:\n%.200s", n.ID, n.SQL)
		}
	}
	for _, n := range doc.Nodes {
		for _, d := range n.Deps {
			if p, ok := pos[d]; !ok || p >= pos[n.ID] {
				t.Errorf("%s depends on %s, which does not run before it", n.ID, d)
			}
		}
	}

	// One node alone.
	r = mustCDP(t, 0, "--project", dir, "compile", "segment.vip_customers")
	if g := ids(headers(t, r.stdout)); !slices.Equal(g, []string{"segment.vip_customers"}) {
		t.Errorf("compile segment.vip_customers printed %v", g)
	}

	// +node: with everything it depends on, transitively, in run order.
	closure := map[string]bool{}
	var add func(string)
	add = func(id string) {
		if !closure[id] {
			closure[id] = true
			for _, d := range deps[id] {
				add(d)
			}
		}
	}
	add("segment.vip_customers")
	var wantPlus []string
	for _, n := range doc.Nodes {
		if closure[n.ID] {
			wantPlus = append(wantPlus, n.ID)
		}
	}
	r = mustCDP(t, 0, "--project", dir, "compile", "+segment.vip_customers")
	gotPlus := ids(headers(t, r.stdout))
	if !slices.Equal(gotPlus, wantPlus) {
		t.Errorf("compile +segment.vip_customers printed %v\nwant %v", gotPlus, wantPlus)
	}
	for _, must := range []string{"source.crm_contacts", "identity.customer", "profiles.customer", "segment.frequent_refunders"} {
		if !slices.Contains(gotPlus, must) {
			t.Errorf("+segment.vip_customers lacks %s", must)
		}
	}
	if slices.Contains(gotPlus, "segment.cart_abandoners") {
		t.Errorf("+segment.vip_customers includes an unrelated segment")
	}

	// Unknown or malformed nodes are usage errors.
	r = mustCDP(t, 2, "--project", dir, "compile", "segment.nope")
	if !strings.Contains(r.stderr, `unknown node "segment.nope"`) || !strings.Contains(r.stderr, "segment.vip_customers") {
		t.Errorf("unknown node message: %s", r.stderr)
	}
	mustCDP(t, 2, "--project", dir, "compile", "vip_customers")

	// PostgreSQL: compiles without connecting (the DSN points nowhere), but
	// the selected target's ${CDP_POSTGRES_DSN} must be set.
	r = mustCDP(t, 2, "--project", dir, "--target", "pg", "compile")
	if !strings.Contains(r.stderr, "cdp.yml:") || !strings.Contains(r.stderr, "CDP_POSTGRES_DSN") {
		t.Errorf("--target pg without CDP_POSTGRES_DSN: %s", r.stderr)
	}
	t.Setenv("CDP_POSTGRES_DSN", "postgres://nobody@127.0.0.1:1/nowhere?connect_timeout=1")
	r = mustCDP(t, 0, "--project", dir, "--target", "pg", "--as-of", asOf, "compile")
	if !strings.HasPrefix(r.stdout, "-- cdp compile: project retail, target pg (postgres), ") {
		t.Errorf("pg banner: %q", strings.SplitN(r.stdout, "\n", 2)[0])
	}
	if g := ids(headers(t, r.stdout)); !slices.Equal(g[:min(len(g), len(got))], ids(got)) {
		t.Errorf("pg nodes %v differ from duckdb's %v", g, ids(got))
	}
	if !strings.Contains(r.stdout, `COLLATE "C"`) || strings.Contains(r.stdout, `COLLATE "binary"`) {
		t.Errorf("pg SQL does not look like PostgreSQL's (byte order is COLLATE \"C\")")
	}
	r = mustCDP(t, 0, "--project", dir, "compile", "--target", "pg", "--json", "segment.vip_customers")
	var pg compiled
	if err := json.Unmarshal([]byte(r.stdout), &pg); err != nil || pg.Target != "pg" || pg.Dialect != "postgres" || len(pg.Nodes) != 1 {
		t.Errorf("--json compile on pg: %+v %v", pg, err)
	}
	// CDP_TARGET selects the target too; --target wins over it.
	t.Setenv("CDP_TARGET", "pg")
	r = mustCDP(t, 0, "--project", dir, "compile", "segment.vip_customers")
	if !strings.Contains(r.stdout, "target pg (postgres)") {
		t.Errorf("CDP_TARGET=pg ignored")
	}
	r = mustCDP(t, 0, "--project", dir, "compile", "--target", "local", "segment.vip_customers")
	if !strings.Contains(r.stdout, "target local (duckdb)") {
		t.Errorf("--target local does not override CDP_TARGET")
	}
	mustCDP(t, 2, "--project", dir, "--target", "snowflake_prod", "compile")
}

func TestUsageErrors(t *testing.T) {
	dir := newProject(t)
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"--frobnicate", "validate"}, 2, "flag provided but not defined: -frobnicate"},
		{[]string{"--project", dir, "validate", "--frobnicate"}, 2, "flag provided but not defined: -frobnicate"},
		{[]string{"--project", dir, "--log-level", "loud", "validate"}, 2, "--log-level must be"},
		{[]string{"--project", dir, "validate", "--log-level", "loud"}, 2, "--log-level must be"},
		{[]string{"--project", dir, "--as-of", "yesterday", "validate"}, 2, `--as-of: cannot parse "yesterday"`},
		{[]string{"--project", filepath.Join(dir, "missing"), "validate"}, 2, "cannot read cdp.yml"},
		{[]string{"--project", dir, "profile"}, 2, "profile takes one LOOKUP"},
		{[]string{"--project", dir, "validate", "--project"}, 2, "flag provided but not defined: -project"},
		{[]string{"--project", dir, "--log-level", "debug", "validate"}, 0, ""},
	} {
		r := cdp(t, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.msg) {
			t.Errorf("cdp %s: exit %d, stderr %q; want exit %d and %q", strings.Join(c.args, " "), r.code, r.stderr, c.code, c.msg)
		}
	}
	// No command: help, exit 0.
	r := mustCDP(t, 0)
	if !strings.Contains(r.stdout, "COMMANDS:") {
		t.Errorf("cdp without a command does not print help:\n%s", r.stdout)
	}
}

func TestGlobalsFirst(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"cdp", "cdp"},
		{"cdp run", "cdp run"},
		{"cdp --json run", "cdp --json run"},
		{"cdp run --as-of 2026-11-01", "cdp --as-of 2026-11-01 run"},
		{"cdp -p x --target pg run --as-of=2026-11-01 --json segment.a", "cdp -p x --target pg --as-of=2026-11-01 --json run segment.a"},
		{"cdp compile +segment.a -t pg", "cdp -t pg compile +segment.a"},
		{"cdp --as-of 2020-01-01 run --as-of 2026-11-01", "cdp --as-of 2020-01-01 --as-of 2026-11-01 run"},
		{"cdp sync plan --json --detailed-exitcode s1", "cdp --json sync plan --detailed-exitcode s1"},
		{"cdp profile -- --json", "cdp profile -- --json"},
		{"cdp validate --project", "cdp validate --project"},
		{"cdp --frobnicate validate --json", "cdp --frobnicate --json validate"},
		{"cdp --project", "cdp --project"},
	} {
		if got := strings.Join(globalsFirst(strings.Fields(c.in)), " "); got != c.want {
			t.Errorf("globalsFirst(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}
