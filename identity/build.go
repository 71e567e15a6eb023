package identity

import (
	"fmt"
	"strings"
	"time"

	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/program"
	"github.com/cdpkit/cdp/warehouse"
)

// Options parameterize one identity build.
type Options struct {
	RunID string    // written to the audit table and used to salt rare ID collisions
	AsOf  time.Time // first_seen_at of identifiers from sources without timestamps
	// MaxRounds bounds every loop (0 = defaults).
	MaxRounds int
	// Incremental builds from the rows newer than each source's watermark
	// and the stored graph (see incremental.go) instead of every row.
	Incremental bool
	// Watermarks of an incremental build (nil: read from the table by the SQL).
	Watermarks *Watermarks
}

// builder accumulates the identity program for one project.
type builder struct {
	p    *models.Project
	t    layout.Tables
	d    warehouse.Dialect
	o    Options
	lims []*models.IDType // identifier types with a limit
	work []string         // scratch tables created, dropped at the end
}

// Steps compiles the identity build: it (re)creates `<e>_identifiers` and
// `<e>_identity_audit` from the source views (layout.SourceView). Scratch
// tables are dropped at the end.
func Steps(p *models.Project, t layout.Tables, o Options) []program.Step {
	b := &builder{p: p, t: t, d: t.D, o: o}
	for _, it := range p.Identity.IDTypes {
		if it.Limit > 0 {
			b.lims = append(b.lims, it)
		}
	}
	var s []program.Step
	if o.Incremental {
		s = append(s, b.prepareIncremental()...)
	} else {
		s = append(s, b.prepare()...)
		s = append(s, b.components("all", "SELECT a, b FROM "+b.w("edges"), b.w("labels"))...)
	}
	if len(b.lims) > 0 {
		s = append(s, b.limits()...)
	}
	s = append(s, b.final()...)
	s = append(s, b.profileIDs()...)
	if o.Incremental {
		s = append(s, b.applyIncremental()...)
	} else {
		s = append(s, b.outputs()...)
		s = append(s, b.persist()...)
	}
	s = append(s, b.cleanup()...)
	return s
}

// w names a scratch table and remembers it for cleanup.
func (b *builder) w(name string) string {
	q := b.t.Q(b.t.Work(name))
	for _, n := range b.work {
		if n == q {
			return q
		}
	}
	b.work = append(b.work, q)
	return q
}
func (b *builder) q(s string) string { return b.d.QuoteString(s) }

func (b *builder) rounds(def int) int {
	if b.o.MaxRounds > 0 {
		return b.o.MaxRounds
	}
	return def
}

func (b *builder) ctas(label, name, query string) []program.Step {
	return program.Stmts(label, warehouse.CreateScratchTableAs(b.d, b.w(name), query)...)
}

// occurrencesSQL lists every normalized identifier occurrence of every source.
func (b *builder) occurrencesSQL() string {
	var parts []string
	for _, src := range b.p.Sources {
		view := b.rows(src)
		for i, id := range src.Identifiers {
			col := b.d.QuoteIdent(layout.SourceIdentColumn(i))
			parts = append(parts, fmt.Sprintf(
				"SELECT %s AS id_type, %s AS id_value, %s AS ts, %s AS source FROM %s WHERE %s IS NOT NULL",
				b.q(id.Type), col, b.d.QuoteIdent(layout.SourceTSColumn), b.q(src.Name), view, col))
		}
	}
	if len(parts) == 0 {
		return "SELECT " + b.d.CastText("NULL") + " AS id_type, " + b.d.CastText("NULL") + " AS id_value, " +
			b.d.Cast("NULL", models.TypeTimestamp) + " AS ts, " + b.d.CastText("NULL") + " AS source" + warehouse.NoRows
	}
	return strings.Join(parts, "\nUNION ALL\n")
}

// invalidSQL lists the distinct values the normalizers rejected, with the
// reason (layout.SourceInvalidColumn).
func (b *builder) invalidSQL() string {
	var parts []string
	for _, src := range b.p.Sources {
		for i, id := range src.Identifiers {
			reason := b.d.QuoteIdent(layout.SourceInvalidColumn(i))
			parts = append(parts, fmt.Sprintf("SELECT %s AS id_type, %s AS id_value, %s AS reason FROM %s WHERE %s IS NOT NULL",
				b.q(id.Type), b.d.QuoteIdent(layout.SourceRawColumn(i)), reason, b.rows(src), reason))
		}
	}
	if len(parts) == 0 {
		t := b.d.CastText("NULL")
		return "SELECT " + t + " AS id_type, " + t + " AS id_value, " + t + " AS reason" + warehouse.NoRows
	}
	return "SELECT DISTINCT id_type, id_value, reason FROM (\n" + indent(strings.Join(parts, "\nUNION ALL\n")) + "\n) i"
}

// pairsSQL lists every pair of identifiers that share a source row.
func (b *builder) pairsSQL() string {
	var parts []string
	for _, src := range b.p.Sources {
		view := b.rows(src)
		for i := range src.Identifiers {
			for j := i + 1; j < len(src.Identifiers); j++ {
				ci, cj := b.d.QuoteIdent(layout.SourceIdentColumn(i)), b.d.QuoteIdent(layout.SourceIdentColumn(j))
				parts = append(parts, fmt.Sprintf(
					"SELECT %s AS ta, %s AS va, %s AS tb, %s AS vb, %s AS ts FROM %s WHERE %s IS NOT NULL AND %s IS NOT NULL",
					b.q(src.Identifiers[i].Type), ci, b.q(src.Identifiers[j].Type), cj,
					b.d.QuoteIdent(layout.SourceTSColumn), view, ci, cj))
			}
		}
	}
	if len(parts) == 0 {
		t := b.d.CastText("NULL")
		return fmt.Sprintf("SELECT %s AS ta, %s AS va, %s AS tb, %s AS vb, %s AS ts"+warehouse.NoRows,
			t, t, t, t, b.d.Cast("NULL", models.TypeTimestamp))
	}
	return strings.Join(parts, "\nUNION ALL\n")
}

// rankSQL maps an id_type column to its priority (0 = strongest).
func (b *builder) rankSQL(col string) string {
	var sb strings.Builder
	sb.WriteString("CASE " + col)
	for _, it := range b.p.Identity.IDTypes {
		fmt.Fprintf(&sb, " WHEN %s THEN %d", b.q(it.Name), it.Rank)
	}
	fmt.Fprintf(&sb, " ELSE %d END", len(b.p.Identity.IDTypes))
	return sb.String()
}

// excludedSQL names the first exclusion pattern a node matches, or NULL.
func (b *builder) excludedSQL() string {
	var whens []string
	for _, it := range b.p.Identity.IDTypes {
		for _, pat := range it.Exclude {
			whens = append(whens, fmt.Sprintf("WHEN id_type = %s AND %s THEN %s",
				b.q(it.Name), b.d.RegexpMatch("id_value", pat), b.q("excluded by "+it.Name+" pattern "+pat)))
		}
	}
	if len(whens) == 0 {
		return b.d.CastText("NULL")
	}
	return "CASE " + strings.Join(whens, " ") + " END"
}

// srcNodes groups the occurrences per (identifier, source): earliest and
// latest row time. The graph's state keeps these rows from run to run.
func (b *builder) srcNodes() []program.Step {
	return b.ctas("per identifier and source: earliest and latest row", "srcnodes", fmt.Sprintf(
		`SELECT id_type, id_value, source, MIN(ts) AS min_ts, MAX(ts) AS max_ts
FROM %s
GROUP BY id_type, id_value, source`, b.w("occ")))
}

// rows names the relation holding a source's rows of this build: its view,
// or in an incremental build the scratch copy of the rows read this run
// (see batches).
func (b *builder) rows(src *models.Source) string {
	if b.o.Incremental {
		return b.w("batch_" + src.Name)
	}
	return b.t.Q(b.t.SourceView(src.Name))
}

// batches copies, once per source, the rows an incremental build reads: the
// filter on the row time alone reaches the source, so only those rows get
// their identifiers normalized.
func (b *builder) batches() []program.Step {
	var s []program.Step
	for _, src := range b.p.Sources {
		if len(src.Identifiers) == 0 {
			continue
		}
		q := "SELECT * FROM " + b.t.Q(b.t.SourceView(src.Name))
		if f := BatchFilter(b.p, b.t, src, b.d.QuoteIdent(layout.SourceTSColumn), b.o.Watermarks); f != "" {
			q += " WHERE " + f
		}
		s = append(s, b.ctas("the rows of "+src.Name+" read this run", "batch_"+src.Name, q)...)
	}
	return s
}

func (b *builder) prepare() []program.Step {
	asOf := b.d.TimestampLiteral(b.o.AsOf)
	var s []program.Step
	s = append(s, b.ctas("occurrences: every normalized identifier of every source row", "occ", b.occurrencesSQL())...)
	s = append(s, b.srcNodes()...)
	s = append(s, b.ctas("invalid: values a normalizer rejected, with the reason", "invalid", b.invalidSQL())...)
	s = append(s, b.ctas("nodes: one per (id_type, id_value), numbered in byte order", "nodes", fmt.Sprintf(
		`SELECT ROW_NUMBER() OVER (ORDER BY %s, %s) AS node_id, id_type, id_value, first_seen_at, last_seen_at,
  source_count, %s AS type_rank, %s AS excluded_by
FROM (
  SELECT id_type, id_value, COALESCE(MIN(min_ts), %s) AS first_seen_at, MAX(max_ts) AS last_seen_at,
    COUNT(*) AS source_count
  FROM %s
  GROUP BY id_type, id_value
) g`, b.d.ByteOrder("id_type"), b.d.ByteOrder("id_value"), b.rankSQL("id_type"), b.excludedSQL(), asOf, b.w("srcnodes")))...)
	s = append(s, b.ctas("edges: identifiers sharing a row; tier = the weaker type's priority", "edges",
		b.edgesSQL(b.w("nodes")))...)
	s = append(s, b.ctas("labels: every kept node starts as its own component", "labels", fmt.Sprintf(
		"SELECT node_id, node_id AS label FROM %s WHERE excluded_by IS NULL", b.w("nodes")))...)
	return s
}

// components runs connected components over the edges(a, b) that
// edgesQuery selects and rewrites labels(node_id, label) so that label is the
// smallest node_id of each component. Each round hooks every label to its
// smallest neighbour, jumps pointers until every label points at a root,
// relabels, and contracts the graph to edges between distinct roots; it ends
// when no edge is left.
func (b *builder) components(tag, edgesQuery, labels string) []program.Step {
	edges, hook, next := b.w(tag+"_edges"), b.w(tag+"_hook"), b.w(tag+"_next")
	jump := program.Loop{
		Label: "pointer jumping: every label points at its root",
		Until: fmt.Sprintf("SELECT COUNT(*) FROM %s h JOIN %s h2 ON h2.x = h.p WHERE h2.p <> h.p", hook, hook),
		Body: []program.Step{program.S("jump",
			b.d.UpdateFrom(hook+" AS h", "p", "h2.p", hook+" AS h2", "h2.x = h.p AND h2.p <> h.p"))},
		MaxRounds: b.rounds(64),
	}
	var body []program.Step
	body = append(body, program.Stmts("hook: each label points at its smallest neighbour",
		warehouse.CreateScratchTableAs(b.d, hook, fmt.Sprintf(
			"SELECT x, LEAST(x, MIN(y)) AS p FROM (SELECT a AS x, b AS y FROM %s UNION ALL SELECT b AS x, a AS y FROM %s) n GROUP BY x",
			edges, edges))...)...)
	body = append(body, program.Step{Loop: &jump})
	body = append(body, program.S("relabel",
		b.d.UpdateFrom(labels+" AS l", "label", "h.p", hook+" AS h", "h.x = l.label AND h.p <> l.label")))
	body = append(body, program.Stmts("contract: edges between distinct roots",
		warehouse.CreateScratchTableAs(b.d, next, fmt.Sprintf(
			`SELECT DISTINCT LEAST(ha.p, hb.p) AS a, GREATEST(ha.p, hb.p) AS b
FROM %s e JOIN %s ha ON ha.x = e.a JOIN %s hb ON hb.x = e.b
WHERE ha.p <> hb.p`, edges, hook, hook))...)...)
	body = append(body, program.Stmts("", warehouse.CreateScratchTableAs(b.d, edges, "SELECT a, b FROM "+next)...)...)
	out := program.Stmts("component edges ("+tag+")", warehouse.CreateScratchTableAs(b.d, edges, edgesQuery)...)
	return append(out, program.Step{Loop: &program.Loop{
		Label:     "connected components (" + tag + "): repeat while edges remain",
		Until:     program.CountRows(edges),
		Body:      body,
		MaxRounds: b.rounds(200),
	}})
}

// limitCountCols renders, per limited type, COUNT(CASE …) AS lim_<i>.
func (b *builder) limitCountCols(typeCol string) string {
	var cols []string
	for i, it := range b.lims {
		cols = append(cols, fmt.Sprintf("COUNT(CASE WHEN %s = %s THEN 1 END) AS lim_%d", typeCol, b.q(it.Name), i))
	}
	return strings.Join(cols, ", ")
}

// overLimit is a predicate over per-limit counts (x.lim_i [+ y.lim_i]).
func (b *builder) overLimit(sum func(i int) string) string {
	var ors []string
	for i, it := range b.lims {
		ors = append(ors, fmt.Sprintf("%s > %d", sum(i), it.Limit))
	}
	return "(" + strings.Join(ors, " OR ") + ")"
}

// limitReason names the first limit a union breaks.
func (b *builder) limitReason(sum func(i int) string) string {
	var whens []string
	for i, it := range b.lims {
		whens = append(whens, fmt.Sprintf("WHEN %s > %d THEN %s", sum(i), it.Limit,
			b.q(fmt.Sprintf("limit: more than %d %s", it.Limit, it.Name))))
	}
	return "CASE " + strings.Join(whens, " ") + " END"
}

// edgesSQL links the kept identifiers of nodes that share a source row
// (pairsSQL): one row per pair, its tier the weaker type's priority, its time
// the earliest row's.
func (b *builder) edgesSQL(nodes string) string {
	return fmt.Sprintf(`SELECT LEAST(na.node_id, nb.node_id) AS a, GREATEST(na.node_id, nb.node_id) AS b,
  GREATEST(na.type_rank, nb.type_rank) AS tier, MIN(p.ts) AS ts
FROM (
%s
) p
JOIN %s na ON na.id_type = p.ta AND na.id_value = p.va AND na.excluded_by IS NULL
JOIN %s nb ON nb.id_type = p.tb AND nb.id_value = p.vb AND nb.excluded_by IS NULL
WHERE na.node_id <> nb.node_id
GROUP BY LEAST(na.node_id, nb.node_id), GREATEST(na.node_id, nb.node_id), GREATEST(na.type_rank, nb.type_rank)`,
		indent(b.pairsSQL()), nodes, nodes)
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }
