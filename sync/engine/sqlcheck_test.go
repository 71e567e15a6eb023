package engine

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/internal/sqlcheck"
	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/hashing"
	"github.com/cdpkit/cdp/warehouse"
	_ "github.com/cdpkit/cdp/warehouse/bigquery"
	_ "github.com/cdpkit/cdp/warehouse/snowflake"
)

// TestEngineSQLParses renders every statement the engine sends (state DDL,
// diff, counts, stream, lock, commit, run history) for each syncs of the
// retail example, in every registered dialect that has parsers
// (sqlcheck.Parsers), and parses them one by one. Nothing is executed: this
// checks the SQL text only.
func TestEngineSQLParses(t *testing.T) {
	p, diags := models.LoadWithOptions(filepath.Join("..", "..", "examples", "retail"), models.LoadOptions{
		Getenv: func(k string) (string, bool) {
			switch {
			case k == "CDP_TARGET":
				return "", false
			case strings.HasSuffix(k, "_PAUSED"):
				return "true", true
			}
			return "x", true
		},
	})
	if diags.HasErrors() {
		t.Fatalf("example does not load:\n%v", diags.Error())
	}
	if len(p.Syncs) == 0 {
		t.Fatal("the example has no syncs")
	}
	var checker *sqlcheck.Checker
	for _, dialect := range warehouse.Types() {
		if len(sqlcheck.Parsers[dialect]) == 0 {
			continue
		}
		t.Run(dialect, func(t *testing.T) {
			if checker == nil {
				checker = sqlcheck.ForTest(t)
			}
			d, err := warehouse.DialectFor(dialect)
			if err != nil {
				t.Fatal(err)
			}
			sqlcheck.Require(t, checker, dialect, engineStatements(layout.Tables{D: d, Schema: "cdp", Entity: p.Entity}, withHashed(p.Syncs)))
		})
	}
}

// withHashed adds a copy of the first sync whose fields go through every
// hashing profile.
func withHashed(syncs []*models.Sync) []*models.Sync {
	h := *syncs[0]
	h.Name += "_hashed"
	h.Fields = nil
	for _, n := range hashing.Names() {
		h.Fields = append(h.Fields, models.FieldMap{Field: n, Trait: syncs[0].Key, Hash: n})
	}
	return append(append([]*models.Sync{}, syncs...), &h)
}

// engineStatements lists the engine's statements for syncs.
func engineStatements(t layout.Tables, syncs []*models.Sync) []sqlcheck.Statement {
	var out []sqlcheck.Statement
	add := func(name string, sqls ...string) {
		for i, q := range sqls {
			out = append(out, sqlcheck.Statement{Name: name + "#" + strconv.Itoa(i+1), SQL: q})
		}
	}
	d := t.D
	ts := time.Date(2026, 11, 1, 8, 30, 0, 0, time.UTC)
	add("state DDL", stateDDL(t)...)
	for _, c := range addedColumns(t) {
		add("added column "+c.name, addColumnSQL(d, c.table, c.name, c.typ))
	}
	add("history", historySQL(t, "", 20), historySQL(t, "vip_to_crm", 5))
	for _, s := range syncs {
		name := "sync " + s.Name + ": "
		diff := t.SyncDiff(s.Name)
		add(name+"diff", warehouse.CreateScratchTableAs(d, t.Q(diff), diffSQL(t, nil, s, false))...)
		add(name+"full diff", warehouse.CreateScratchTableAs(d, t.Q(diff), diffSQL(t, nil, s, true))...)
		add(name+"counts", countsSQL(t, diff), skippedSQL(t, nil, s), deliveredSQL(t, s.Name))
		add(name+"stream", streamSQL(t, s, t.Q(diff), opsOf(s)), streamSQL(t, s, t.Q(diff), allOps))
		add(name+"drop diff", d.DropTable(t.Q(diff)))
		add(name+"lock", lockRowSQL(t, s.Name), lockClaimSQL(t, s.Name, "host:1:run", "run-1", ts, time.Minute),
			lockHolderSQL(t, s.Name), lockRenewSQL(t, s.Name, "host:1:run", ts), lockReleaseSQL(t, s.Name, "host:1:run"))
		r := &Result{RunID: "run-1", Sync: s.Name, Mode: s.Mode, Destination: s.Destination, Started: ts, Finished: ts,
			Status: "failed", Error: "it's broken \\ badly", Match: &destination.MatchReport{Received: 10, Range: "20-30%"}}
		add(name+"run record", append(startSQL(t, r), finishSQL(t, r))...)
		sync, now := d.QuoteString(s.Name), d.TimestampLiteral(ts)
		keys := []string{d.QuoteString("a@x.fr"), d.QuoteString(`it's "quoted" \ key`)}
		ins := [][]string{stateRow(d, sync, keys[0], "0123abcd", `{"email":"a@x.fr","n":null}`, now, "0031x00000AbCdE"),
			stateRow(d, sync, keys[1], "ffff", `{"s":"it's \\"x\\""}`, now, "")}
		rej := []string{rejectionRow(d, "run-1", sync, keys[0], string(destination.OpAdd), "HTTP 400: bad 'email'", false, now)}
		add(name+"commit", commitSQL(t, sync, keys, ins, rej)...)
		add(name+"progress", progressSQL(t, "run-1", sync, 3, 2, 1, 0))
		add(name+"state version", stateVersionSQL(t, s.Name))
	}
	return out
}
