package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var (
	runBanner    = regexp.MustCompile(`^run (r\d{8}T\d{6}Z-[0-9a-f]{6}): (\d+) nodes on local \(duckdb\), as of 2026-11-01T00:00:00Z; (?:full|incremental): .+$`)
	progressRe   = regexp.MustCompile(`^\[\s*(\d+)/(\d+)\] (\S+) \.+ (ok|error)\s+(\d+\.\d\d)s(?:  (\d+) rows)?`)
	summaryRe    = regexp.MustCompile(`^success in \d+\.\d\ds: (\d+) nodes$`)
	profilesRe   = regexp.MustCompile(`^profiles: (\d+) \(table cdp\.customer_profiles\)$`)
	segmentRe    = regexp.MustCompile(`^  (\w+)\s+(\d+) members \((\d+) in holdout\)$`)
	seededRe     = regexp.MustCompile(`^seeded (cdp\.seed_\w+)\s+(\d+) rows from (seeds/\w+\.csv)$`)
	seedTotalRe  = regexp.MustCompile(`^6 seed files loaded into local \(duckdb\) in \d+\.\d\ds$`)
	profileHead  = regexp.MustCompile(`^profile ([0-9a-f]+)$`)
	identifierRe = regexp.MustCompile(`^  (\w+)\s+(\S+)\s+first seen .*, (\d+) source\(s\)$`)
)

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// humanRun is what the text output of `cdp run` says.
type humanRun struct {
	runID    string
	nodes    []string
	rows     map[string]int64
	profiles int64
	segments map[string][2]int64 // members, holdout
	idTypes  map[string][4]int64 // kept, merged, excluded, invalid
}

var idTypeRe = regexp.MustCompile(`^  (\S+) +(\d+) kept \((\d+) merged\), (\d+) excluded, (\d+) invalid$`)

// parseIDTypeLines reads the summary's identifiers block: kept, merged,
// excluded, invalid per id type.
func parseIDTypeLines(t *testing.T, lines []string) map[string][4]int64 {
	t.Helper()
	out := map[string][4]int64{}
	for _, l := range lines {
		if strings.HasPrefix(l, "  invalid values and their reasons: ") || strings.HasPrefix(l, "warning: ") {
			continue
		}
		m := idTypeRe.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("unexpected identifiers line %q", l)
			continue
		}
		out[m[1]] = [4]int64{atoi(t, m[2]), atoi(t, m[3]), atoi(t, m[4]), atoi(t, m[5])}
	}
	return out
}

func parseHumanRun(t *testing.T, out string) humanRun {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	m := runBanner.FindStringSubmatch(lines[0])
	if m == nil {
		t.Fatalf("run banner: %q", lines[0])
	}
	h := humanRun{runID: m[1], rows: map[string]int64{}, segments: map[string][2]int64{}}
	total := atoi(t, m[2])
	i := 1
	for ; i < len(lines) && progressRe.MatchString(lines[i]); i++ {
		p := progressRe.FindStringSubmatch(lines[i])
		if atoi(t, p[1]) != int64(len(h.nodes)+1) || atoi(t, p[2]) != total || p[4] != "ok" || p[6] == "" {
			t.Errorf("progress line %q: want node %d/%d ok with a row count", lines[i], len(h.nodes)+1, total)
		}
		h.nodes = append(h.nodes, p[3])
		if p[6] != "" {
			h.rows[p[3]] = atoi(t, p[6])
		}
	}
	if int64(len(h.nodes)) != total {
		t.Fatalf("%d progress lines, banner says %d nodes:\n%s", len(h.nodes), total, out)
	}
	if i+2 >= len(lines) {
		t.Fatalf("no summary:\n%s", out)
	}
	if s := summaryRe.FindStringSubmatch(lines[i]); s == nil || atoi(t, s[1]) != total {
		t.Errorf("summary line: %q", lines[i])
	}
	p := profilesRe.FindStringSubmatch(lines[i+1])
	if p == nil {
		t.Fatalf("profiles line: %q", lines[i+1])
	}
	h.profiles = atoi(t, p[1])
	if lines[i+2] != "segments:" {
		t.Fatalf("segments header: %q", lines[i+2])
	}
	rest := lines[i+3:]
	for j, l := range rest {
		if l == "identifiers:" {
			h.idTypes = parseIDTypeLines(t, rest[j+1:])
			rest = rest[:j]
			break
		}
	}
	for _, l := range rest {
		s := segmentRe.FindStringSubmatch(l)
		if s == nil {
			t.Errorf("unexpected summary line %q", l)
			continue
		}
		h.segments[s[1]] = [2]int64{atoi(t, s[2]), atoi(t, s[3])}
	}
	return h
}

// TestSeedRunProfile runs the example end to end on embedded DuckDB, then on
// PostgreSQL (which must give the same results).
func TestSeedRunProfile(t *testing.T) {
	dir := newProject(t)

	// seed: one line per CSV with its row count, then a total.
	r := mustCDP(t, 0, "--project", dir, "seed")
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	if len(lines) != 7 || !seedTotalRe.MatchString(lines[6]) {
		t.Fatalf("seed output:\n%s", r.stdout)
	}
	for _, l := range lines[:6] {
		m := seededRe.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("seed line %q", l)
			continue
		}
		want := csvRows(t, filepath.Join(dir, m[3]))
		if atoi(t, m[2]) != int64(want) || m[1] != "cdp.seed_"+strings.TrimSuffix(filepath.Base(m[3]), ".csv") {
			t.Errorf("seed line %q: the CSV has %d rows", l, want)
		}
		if n := duckCount(t, dir, "SELECT COUNT(*) FROM "+m[1]); n != int64(want) {
			t.Errorf("%s holds %d rows, want %d", m[1], n, want)
		}
	}

	// run: `--as-of` after the command name, as `cdp init` suggests.
	r = mustCDP(t, 0, "--project", dir, "run", "--as-of", asOf)
	h := parseHumanRun(t, r.stdout)
	doc := compileJSON(t, dir)
	var order []string
	for _, n := range doc.Nodes {
		order = append(order, n.ID)
	}
	if !slices.Equal(h.nodes, order) {
		t.Errorf("run order %v\ncompile order %v", h.nodes, order)
	}
	if h.profiles <= 0 || h.profiles != h.rows["profiles.customer"] {
		t.Errorf("summary says %d profiles, profiles.customer node %d rows", h.profiles, h.rows["profiles.customer"])
	}
	if n := duckCount(t, dir, `SELECT COUNT(*) FROM "cdp"."customer_profiles"`); n != h.profiles {
		t.Errorf("customer_profiles holds %d rows, summary says %d", n, h.profiles)
	}
	var kept, invalid int64
	for typ, c := range h.idTypes {
		kept, invalid = kept+c[0], invalid+c[3]
		if c[1] > c[0] {
			t.Errorf("id type %s: %d merged of %d kept", typ, c[1], c[0])
		}
	}
	if len(h.idTypes) == 0 || kept != duckCount(t, dir, `SELECT COUNT(*) FROM "cdp"."customer_identifiers"`) {
		t.Errorf("summary per id type %v: kept should add up to the identifiers table", h.idTypes)
	}
	if n := duckCount(t, dir, `SELECT COUNT(*) FROM "cdp"."customer_identity_audit" WHERE kind = 'invalid'`); n != invalid {
		t.Errorf("audit holds %d invalid values, summary says %d", n, invalid)
	}
	segments, _ := declared(t, dir, "models/segments.yml")
	for _, s := range segments {
		size, ok := h.segments[s]
		if !ok && h.rows["segment."+s] > 0 {
			t.Errorf("summary lacks segment %s", s)
		}
		if size[0] != h.rows["segment."+s] || size[1] > size[0] {
			t.Errorf("segment %s: summary %v, node rows %d", s, size, h.rows["segment."+s])
		}
	}
	if h.segments["vip_customers"][0] == 0 || h.segments["vip_customers"][1] == 0 {
		t.Errorf("vip_customers has no members or no holdout: %v", h.segments["vip_customers"])
	}

	// --json run: JSON lines, one node event per node, then the summary.
	r = mustCDP(t, 0, "--project", dir, "--json", "--as-of", asOf, "run")
	events := jsonLines(t, r.stdout)
	if len(events) != len(order)+1 {
		t.Fatalf("--json run printed %d lines, want %d node events and a summary", len(events), len(order))
	}
	sum := lastSummary(t, r.stdout)
	for i, e := range events[:len(order)] {
		res, _ := e["result"].(map[string]any)
		if e["event"] != "node" || e["index"] != float64(i+1) || e["total"] != float64(len(order)) ||
			e["run_id"] != sum.Run.RunID || res["node"] != order[i] || res["status"] != "ok" {
			t.Errorf("node event %d: %v", i, e)
		}
		if _, ok := res["seconds"].(float64); !ok {
			t.Errorf("node event %d has no seconds: %v", i, e)
		}
		if rows, _ := res["rows"].(float64); int64(rows) != h.rows[order[i]] {
			t.Errorf("node event %d: %v rows, the text run said %d", i, res["rows"], h.rows[order[i]])
		}
	}
	if sum.Run.Status != "success" || len(sum.Run.Nodes) != len(order) || sum.Run.RunID == h.runID {
		t.Errorf("summary: %+v", sum.Run)
	}
	if sum.Profiles != h.profiles || len(sum.Segments) != len(h.segments) {
		t.Errorf("JSON summary: %d profiles, %d segments; text: %d, %d", sum.Profiles, len(sum.Segments), h.profiles, len(h.segments))
	}
	for _, s := range sum.Segments {
		if h.segments[s.Segment] != [2]int64{s.Members, s.Holdout} {
			t.Errorf("JSON segment %+v, text %v", s, h.segments[s.Segment])
		}
	}

	// cdp_runs: both runs succeeded.
	runs := duckRuns(t, dir)
	for _, id := range []string{h.runID, sum.Run.RunID} {
		row, ok := runs[id]
		if !ok {
			t.Errorf("cdp_runs has no row for %s: %v", id, runs)
			continue
		}
		if row.status != "success" || row.errMsg.Valid || !row.finished.Valid {
			t.Errorf("cdp_runs %s: %+v", id, row)
		}
		var nodes []map[string]any
		if err := json.Unmarshal([]byte(row.nodes.String), &nodes); err != nil || len(nodes) != len(order) {
			t.Errorf("cdp_runs %s nodes: %v (%d)", id, err, len(nodes))
		}
	}

	// A selection runs only those nodes.
	r = mustCDP(t, 0, "--project", dir, "--as-of", asOf, "run", "segment.vip_customers")
	if !strings.Contains(r.stdout, ": 1 nodes on local") || !strings.Contains(r.stdout, "[1/1] segment.vip_customers ") {
		t.Errorf("run segment.vip_customers:\n%s", r.stdout)
	}

	t.Run("profile", func(t *testing.T) { checkProfiles(t, dir) })
	t.Run("postgres", func(t *testing.T) { checkPostgres(t, dir, sum) })
}

func compileJSON(t *testing.T, dir string) compiled {
	t.Helper()
	r := mustCDP(t, 0, "--project", dir, "--json", "compile")
	var doc compiled
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func checkProfiles(t *testing.T, dir string) {
	email := demo(t, "demo_email")
	r := mustCDP(t, 0, "--project", dir, "--as-of", asOf, "profile", "email:"+email)
	lines := strings.Split(r.stdout, "\n")
	m := profileHead.FindStringSubmatch(lines[0])
	if m == nil {
		t.Fatalf("profile output:\n%s", r.stdout)
	}
	id := m[1]
	for _, want := range []string{
		"\nidentifiers (", "\ntraits:\n", "\nsegments (",
		"  email          " + email + " ",
		"  email          " + demo(t, "demo_second_email") + " ",
		"  user_id        " + demo(t, "demo_user_id") + " ",
		"  loyalty_card   " + strings.ToLower(demo(t, "demo_loyalty_card")) + " ",
		"  phone          " + demo(t, "demo_phone_e164") + " ",
		"\n  email                  " + email + "\n",
		"\n  ltv_tier               gold\n",
		"\n  is_vip                 true\n",
		"\n  display_name           Camille Moreau\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("profile output lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, l := range lines {
		if x := identifierRe.FindStringSubmatch(l); x != nil && atoi(t, x[3]) < 1 {
			t.Errorf("identifier line without sources: %q", l)
		}
	}

	// JSON: the same person, by email and by profile id.
	r = mustCDP(t, 0, "--project", dir, "--json", "profile", "email:"+email)
	v := decodeProfile(t, r.stdout)
	if v.ProfileID != id || !v.hasIdentifier("email", email) || !v.hasIdentifier("user_id", demo(t, "demo_user_id")) {
		t.Errorf("JSON profile: %+v", v)
	}
	if v.trait("is_vip") != true || v.trait("ltv_tier") != "gold" || v.trait("email") != email {
		t.Errorf("JSON traits: is_vip %v, ltv_tier %v, email %v", v.trait("is_vip"), v.trait("ltv_tier"), v.trait("email"))
	}
	for _, tr := range v.Traits { // plain JSON values, never a driver's struct
		switch tr.Value.(type) {
		case nil, bool, float64, string:
		default:
			t.Errorf("trait %s is %#v in JSON", tr.Name, tr.Value)
		}
	}
	if ltv, ok := v.trait("lifetime_value").(float64); !ok || ltv < 1000 {
		t.Errorf("lifetime_value of the demo VIP: %#v", v.trait("lifetime_value"))
	}
	traits, _ := declared(t, dir, "models/traits.yml")
	if len(v.Traits) != len(traits) {
		t.Errorf("JSON profile has %d traits, the project declares %d", len(v.Traits), len(traits))
	}
	// Segments in the text, the JSON and the table agree.
	var segs []string
	for _, s := range v.Segments {
		segs = append(segs, s.Segment)
		if s.EnteredAt != "2026-11-01T00:00:00Z" {
			t.Errorf("segment %s entered_at %s, want the run's as-of", s.Segment, s.EnteredAt)
		}
	}
	if !slices.Contains(segs, "vip_customers") {
		t.Errorf("the demo person (is_vip, opted in) is not in vip_customers: %v", segs)
	}
	if n := duckCount(t, dir, `SELECT COUNT(*) FROM "cdp"."customer_segments" WHERE profile_id = '`+id+`'`); n != int64(len(segs)) {
		t.Errorf("customer_segments holds %d rows for %s, JSON lists %v", n, id, segs)
	}
	text := mustCDP(t, 0, "--project", dir, "profile", "email:"+email).stdout
	if !strings.Contains(text, "\nsegments ("+itoa(len(segs))+"):\n") {
		t.Errorf("text profile does not list %d segments", len(segs))
	}
	for _, s := range segs {
		if !regexp.MustCompile(`\n  ` + s + `\s+since 2026-11-01 00:00`).MatchString(text) {
			t.Errorf("text profile lacks segment %s", s)
		}
	}
	// Lookups normalize like identity resolution does.
	r = mustCDP(t, 0, "--project", dir, "--json", "profile", "email:  "+strings.ToUpper(email)+" ")
	if decodeProfile(t, r.stdout).ProfileID != id {
		t.Errorf("an uppercased email finds another profile")
	}
	r = mustCDP(t, 0, "--project", dir, "--json", "profile", "profile:"+id)
	if byID := decodeProfile(t, r.stdout); byID.ProfileID != id || len(byID.Identifiers) != len(v.Identifiers) || len(byID.Segments) != len(v.Segments) {
		t.Errorf("profile:%s gives %+v", id, byID)
	}

	// Not found: exit 1 with a clear message.
	r = mustCDP(t, 1, "--project", dir, "profile", "email:nobody@nowhere.test")
	if r.stdout != "" || !strings.Contains(r.stderr, `lookup "email:nobody@nowhere.test"`) || !strings.Contains(r.stderr, "no profile matches") {
		t.Errorf("not found:\nstdout %q\nstderr %q", r.stdout, r.stderr)
	}
	r = mustCDP(t, 1, "--project", dir, "profile", "profile:0000000000000000")
	if !strings.Contains(r.stderr, "no profile matches") {
		t.Errorf("unknown profile id: %q", r.stderr)
	}
	// Malformed lookups are usage errors.
	r = mustCDP(t, 2, "--project", dir, "profile", "bogus")
	if !strings.Contains(r.stderr, "TYPE:VALUE") {
		t.Errorf("profile bogus: %q", r.stderr)
	}
	r = mustCDP(t, 2, "--project", dir, "profile", "passport:123")
	if !strings.Contains(r.stderr, `unknown identifier type "passport"`) || !strings.Contains(r.stderr, "email") {
		t.Errorf("profile passport:123: %q", r.stderr)
	}
	mustCDP(t, 2, "--project", dir, "profile", "email:")
}

// TestRunFailure: a source whose table does not exist fails the run with exit
// 1, names the node, and records the error in cdp_runs.
func TestRunFailure(t *testing.T) {
	dir := newProject(t)
	edit(t, dir, "models/sources.yml", "table: cdp.seed_crm_contacts", "table: cdp.crm_contacts_missing")
	// Still a valid project: only the warehouse can tell the table is missing.
	mustCDP(t, 0, "--project", dir, "validate")

	r := mustCDP(t, 1, "--project", dir, "--as-of", asOf, "run")
	lines := strings.Split(r.stdout, "\n")
	m := regexp.MustCompile(`^run (\S+): `).FindStringSubmatch(lines[0])
	if m == nil {
		t.Fatalf("run output:\n%s", r.stdout)
	}
	runID := m[1]
	p := progressRe.FindStringSubmatch(lines[1])
	if p == nil || p[3] != "source.crm_contacts" || p[4] != "error" {
		t.Errorf("first progress line %q: want source.crm_contacts in error", lines[1])
	}
	if !strings.Contains(r.stdout, "crm_contacts_missing") {
		t.Errorf("progress does not show the warehouse's error:\n%s", r.stdout)
	}
	if !regexp.MustCompile(`(?m)^error in \d+\.\d\ds: 1 nodes$`).MatchString(r.stdout) {
		t.Errorf("no error summary:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "profiles:") || strings.Contains(r.stdout, "segments:") {
		t.Errorf("a failed run reports profile or segment counts:\n%s", r.stdout)
	}
	if !strings.HasPrefix(r.stderr, "error: source.crm_contacts: ") || !strings.Contains(r.stderr, "crm_contacts_missing") {
		t.Errorf("stderr does not name the failing node and table: %q", r.stderr)
	}
	runs := duckRuns(t, dir)
	row, ok := runs[runID]
	if !ok {
		t.Fatalf("cdp_runs has no row %s: %v", runID, runs)
	}
	if row.status != "error" || !strings.HasPrefix(row.errMsg.String, "source.crm_contacts: ") ||
		!strings.Contains(row.errMsg.String, "crm_contacts_missing") || !row.finished.Valid {
		t.Errorf("cdp_runs row: %+v", row)
	}

	// --json: the failing node event and an error summary, still exit 1.
	r = mustCDP(t, 1, "--project", dir, "--as-of", asOf, "--json", "run")
	events := jsonLines(t, r.stdout)
	sum := lastSummary(t, r.stdout)
	res, _ := events[0]["result"].(map[string]any)
	if len(events) != 2 || res["node"] != "source.crm_contacts" || res["status"] != "error" || res["error"] == "" {
		t.Errorf("--json failed run events: %v", events)
	}
	if sum.Run.Status != "error" || !strings.HasPrefix(sum.Run.Error, "source.crm_contacts: ") || sum.Profiles != 0 || sum.Segments != nil {
		t.Errorf("--json failed run summary: %+v", sum)
	}
	if row := duckRuns(t, dir)[sum.Run.RunID]; row.status != "error" {
		t.Errorf("cdp_runs row of the JSON run: %+v", row)
	}
}
