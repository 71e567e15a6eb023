package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/program"
	"github.com/cdpkit/cdp/runner"
	"github.com/cdpkit/cdp/warehouse"
)

// naive is the identity approach many SQL projects use, written from its
// usual description: number the identifiers, turn each row's identifier
// pairs into edges (both directions), start every identifier with its own
// number as label, and repeat "each node takes the smallest label among
// itself and its neighbours" over the whole graph until no label changes.
// It reads the same normalized source views and applies the same exclusion
// patterns as the stitcher, but has no limit rule.
type naive struct {
	p *models.Project
	t layout.Tables
	d warehouse.Dialect
}

func (n naive) tbl(name string) string { return n.d.Table(CDPSchema, "bench_naive_"+name) }

func (n naive) pairsSQL() string {
	var parts []string
	for _, src := range n.p.Sources {
		view := n.t.Q(n.t.SourceView(src.Name))
		for i := range src.Identifiers {
			for j := i + 1; j < len(src.Identifiers); j++ {
				ci, cj := n.d.QuoteIdent(layout.SourceIdentColumn(i)), n.d.QuoteIdent(layout.SourceIdentColumn(j))
				parts = append(parts, fmt.Sprintf("SELECT %s AS ta, %s AS va, %s AS tb, %s AS vb FROM %s WHERE %s IS NOT NULL AND %s IS NOT NULL",
					n.d.QuoteString(src.Identifiers[i].Type), ci, n.d.QuoteString(src.Identifiers[j].Type), cj, view, ci, cj))
			}
		}
	}
	return strings.Join(parts, "\nUNION ALL\n")
}

func (n naive) idsSQL() string {
	var parts []string
	for _, src := range n.p.Sources {
		view := n.t.Q(n.t.SourceView(src.Name))
		for i, id := range src.Identifiers {
			col := n.d.QuoteIdent(layout.SourceIdentColumn(i))
			parts = append(parts, fmt.Sprintf("SELECT %s AS id_type, %s AS id_value FROM %s WHERE %s IS NOT NULL",
				n.d.QuoteString(id.Type), col, view, col))
		}
	}
	return strings.Join(parts, "\nUNION ALL\n")
}

// keep is a predicate: the identifier matches no exclusion pattern.
func (n naive) keep() string {
	var ors []string
	for _, it := range n.p.Identity.IDTypes {
		for _, pat := range it.Exclude {
			ors = append(ors, fmt.Sprintf("(id_type = %s AND %s)", n.d.QuoteString(it.Name), n.d.RegexpMatch("id_value", pat)))
		}
	}
	if len(ors) == 0 {
		return "1 = 1"
	}
	return "NOT (" + strings.Join(ors, " OR ") + ")"
}

// prepare builds nodes, symmetric edges and the starting labels.
func (n naive) prepare() []program.Step {
	var s []program.Step
	s = append(s, program.Stmts("naive: nodes", n.d.CreateTableAs(n.tbl("nodes"), fmt.Sprintf(
		"SELECT ROW_NUMBER() OVER (ORDER BY id_type, id_value) AS node_id, id_type, id_value FROM (SELECT DISTINCT id_type, id_value FROM (\n%s\n) o) u WHERE %s",
		n.idsSQL(), n.keep()))...)...)
	s = append(s, program.Stmts("naive: pairs of identifiers sharing a row", n.d.CreateTableAs(n.tbl("pairs"), fmt.Sprintf(
		`SELECT DISTINCT na.node_id AS a, nb.node_id AS b FROM (
%s
) p
JOIN %s na ON na.id_type = p.ta AND na.id_value = p.va
JOIN %s nb ON nb.id_type = p.tb AND nb.id_value = p.vb
WHERE na.node_id <> nb.node_id`, n.pairsSQL(), n.tbl("nodes"), n.tbl("nodes")))...)...)
	s = append(s, program.Stmts("naive: edges, both directions", n.d.CreateTableAs(n.tbl("edges"), fmt.Sprintf(
		"SELECT a AS src, b AS dst FROM %s UNION SELECT b, a FROM %s", n.tbl("pairs"), n.tbl("pairs")))...)...)
	s = append(s, program.Stmts("naive: every node is its own label", n.d.CreateTableAs(n.tbl("labels"),
		"SELECT node_id, node_id AS label FROM "+n.tbl("nodes"))...)...)
	s = append(s, program.Stmts("naive: change counter", n.d.CreateTableAs(n.tbl("changed"),
		"SELECT COUNT(*) AS n FROM "+n.tbl("nodes"))...)...)
	return s
}

// propagate is the loop: one hop of minimum-label propagation per round.
func (n naive) propagate(maxRounds int) program.Step {
	body := program.Stmts("naive: smallest label among the node and its neighbours", n.d.CreateTableAs(n.tbl("next"), fmt.Sprintf(
		`SELECT l.node_id, LEAST(l.label, COALESCE(MIN(nl.label), l.label)) AS label
FROM %s l LEFT JOIN %s e ON e.src = l.node_id LEFT JOIN %s nl ON nl.node_id = e.dst
GROUP BY l.node_id, l.label`, n.tbl("labels"), n.tbl("edges"), n.tbl("labels")))...)
	body = append(body, program.Stmts("naive: count changes", n.d.CreateTableAs(n.tbl("changed"), fmt.Sprintf(
		"SELECT COUNT(*) AS n FROM %s x JOIN %s l ON l.node_id = x.node_id WHERE x.label <> l.label",
		n.tbl("next"), n.tbl("labels")))...)...)
	body = append(body, program.Stmts("naive: swap", n.d.CreateTableAs(n.tbl("labels"), "SELECT node_id, label FROM "+n.tbl("next"))...)...)
	return program.Step{Loop: &program.Loop{
		Label:     "naive propagation",
		Until:     "SELECT MAX(n) FROM " + n.tbl("changed"),
		Body:      body,
		MaxRounds: maxRounds,
	}}
}

// RunNaive runs naive propagation on w; budget (0 = none) bounds the
// propagation loop, after the preparation.
func RunNaive(ctx context.Context, w warehouse.Warehouse, projectDir string, t Target, budget time.Duration) (*IdentityResult, error) {
	p, err := loadProject(projectDir, t)
	if err != nil {
		return nil, err
	}
	views, _, err := compileIdentity(p, w.Dialect())
	if err != nil {
		return nil, err
	}
	if _, err := w.Exec(ctx, w.Dialect().CreateSchema(CDPSchema)); err != nil {
		return nil, err
	}
	ex := &runner.Executor{W: w}
	if _, err := ex.Exec(ctx, views); err != nil {
		return nil, err
	}
	n := naive{p: p, t: layout.Tables{D: w.Dialect(), Schema: CDPSchema, Entity: p.Entity}, d: w.Dialect()}
	res := &IdentityResult{Approach: "naive"}
	start := time.Now()
	if _, err := ex.Exec(ctx, n.prepare()); err != nil {
		return nil, err
	}
	res.Stages = append(res.Stages, Stage{"prepare", time.Since(start).Seconds()})
	ps := time.Now()
	if budget > 0 { // the budget bounds the propagation: its rounds are what the projection needs
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, budget)
		defer cancel()
	}
	stats, err := ex.Exec(ctx, []program.Step{n.propagate(100000)})
	for _, s := range stats {
		res.Rounds += s.Rounds
	}
	res.Stages = append(res.Stages, Stage{"propagation", time.Since(ps).Seconds()})
	res.Seconds = time.Since(start).Seconds()
	if err != nil {
		return res, notFinished(res, err, start, budget, fmt.Sprintf("at round %d", res.Rounds))
	}
	res.Finished = true
	return res, nil
}

// notFinished turns a budget overrun into a note; other errors are returned.
func notFinished(res *IdentityResult, err error, start time.Time, budget time.Duration, where string) error {
	if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "nterrupt") &&
		!strings.Contains(err.Error(), "cancel") {
		return err
	}
	res.Seconds = time.Since(start).Seconds()
	res.Note = fmt.Sprintf("did not finish within %s %s", budget, where)
	return nil
}
