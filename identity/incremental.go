package identity

import (
	"fmt"

	"github.com/cdpkit/cdp/program"
)

// An incremental build reads only the rows at or after each source's
// watermark (minus its overlap), merges their identifiers and links into the
// stored graph, and rebuilds only the raw components that changed:
//
//  1. the batch's identifiers: new ones get node_ids after the known ones;
//     (identifier, source) statistics and links that are new, or that the
//     batch makes earlier or later, are the changes.
//  2. the identifiers with a change touch their raw components; the new raw
//     components are the components of the small graph whose nodes are the
//     touched components' labels and whose edges are the new links.
//  3. every identifier and link of an affected component is rebuilt with the
//     same steps as a full build (limits, stable IDs) after renumbering its
//     identifiers in byte order, so link order, and so the result, is exactly
//     that of a full build. Limits never act across raw components, and a
//     previous profile lies inside one raw component, so the untouched
//     components keep their rows.
//  4. one transaction replaces the affected rows of the identifiers and audit
//     tables and updates the state.

// prepareIncremental builds the scratch nodes, edges and labels of the
// affected components (the shape prepare gives a full build).
func (b *builder) prepareIncremental() []program.Step {
	var s []program.Step
	s = append(s, b.batches()...)
	s = append(s, b.ctas("occurrences: the identifiers of the rows read this run", "occ", b.occurrencesSQL())...)
	s = append(s, b.srcNodes()...)
	s = append(s, b.ctas("invalid: values of the rows read this run a normalizer rejected", "invalid", b.invalidSQL())...)
	s = append(s, b.batchNodes()...)
	s = append(s, b.batchChanges()...)
	s = append(s, b.mergeComponents()...)
	s = append(s, b.affected()...)
	return s
}

// batchNodes numbers the batch's new identifiers and maps every batch
// identifier to its node.
func (b *builder) batchNodes() []program.Step {
	known := b.t.Q(b.t.IdentityNodes())
	var s []program.Step
	s = append(s, program.S("state: the graph's identifiers (empty before a first run)", NodesDDL(b.d, known)))
	s = append(s, b.ctas("new identifiers, numbered after the known ones in byte order", "new_nodes", fmt.Sprintf(
		`SELECT (SELECT COALESCE(MAX(node_id), 0) FROM %[1]s) + ROW_NUMBER() OVER (ORDER BY %[2]s, %[3]s) AS node_id,
  id_type, id_value, %[4]s AS type_rank, %[5]s AS excluded_by
FROM (SELECT DISTINCT id_type, id_value FROM %[6]s) s
WHERE NOT EXISTS (SELECT 1 FROM %[1]s n WHERE n.id_type = s.id_type AND n.id_value = s.id_value)`,
		known, b.d.ByteOrder("id_type"), b.d.ByteOrder("id_value"), b.rankSQL("id_type"), b.excludedSQL(), b.w("srcnodes")))...)
	s = append(s, b.ctas("the batch's identifiers with their node", "bids", fmt.Sprintf(
		`SELECT n.node_id, n.id_type, n.id_value, n.type_rank, n.excluded_by
FROM (
  SELECT node_id, id_type, id_value, type_rank, excluded_by FROM %s
  UNION ALL
  SELECT node_id, id_type, id_value, type_rank, excluded_by FROM %s
) n
JOIN (SELECT DISTINCT id_type, id_value FROM %s) s ON s.id_type = n.id_type AND s.id_value = n.id_value`,
		known, b.w("new_nodes"), b.w("srcnodes")))...)
	return s
}

// batchChanges finds the (identifier, source) statistics and the links the
// batch adds or changes, with their merged values.
func (b *builder) batchChanges() []program.Step {
	ns, es, bids := b.t.Q(b.t.IdentityNodeSources()), b.t.Q(b.t.IdentityEdges()), b.w("bids")
	var s []program.Step
	s = append(s, program.S("state: per identifier and source", NodeSourcesDDL(b.d, ns)))
	s = append(s, program.S("state: links", EdgesDDL(b.d, es)))
	s = append(s, b.ctas("(identifier, source) rows the batch adds, or makes earlier or later", "ns_changed", fmt.Sprintf(
		`SELECT i.node_id, s.source, %s AS min_ts, %s AS max_ts
FROM %s s
JOIN %s i ON i.id_type = s.id_type AND i.id_value = s.id_value AND i.excluded_by IS NULL
LEFT JOIN %s o ON o.node_id = i.node_id AND o.source = s.source
WHERE o.node_id IS NULL
  OR (s.min_ts IS NOT NULL AND (o.min_ts IS NULL OR s.min_ts < o.min_ts))
  OR (s.max_ts IS NOT NULL AND (o.max_ts IS NULL OR s.max_ts > o.max_ts))`,
		minNullable("o.min_ts", "s.min_ts"), maxNullable("o.max_ts", "s.max_ts"), b.w("srcnodes"), bids, ns))...)
	s = append(s, b.ctas("the batch's links", "bedges", b.edgesSQL(bids))...)
	s = append(s, b.ctas("links the batch adds or makes earlier", "e_changed", fmt.Sprintf(
		`SELECT e.a, e.b, e.tier, %s AS ts
FROM %s e LEFT JOIN %s o ON o.a = e.a AND o.b = e.b
WHERE o.a IS NULL OR (e.ts IS NOT NULL AND (o.ts IS NULL OR e.ts < o.ts))`,
		minNullable("o.ts", "e.ts"), b.w("bedges"), es))...)
	return s
}

// mergeComponents computes the new raw components of the touched ones: the
// components of the graph whose nodes are their labels and whose edges are
// the changed links. merge(node_id = old label, label = new label).
func (b *builder) mergeComponents() []program.Step {
	known := b.t.Q(b.t.IdentityNodes())
	var s []program.Step
	s = append(s, b.ctas("identifiers with a change", "touched", fmt.Sprintf(
		"SELECT DISTINCT node_id FROM (SELECT node_id FROM %[1]s UNION ALL SELECT a FROM %[2]s UNION ALL SELECT b FROM %[2]s) AS u",
		b.w("ns_changed"), b.w("e_changed")))...)
	s = append(s, b.ctas("their raw components, by label (a new identifier is its own)", "merge", fmt.Sprintf(
		`SELECT DISTINCT COALESCE(n.label, t.node_id) AS node_id, COALESCE(n.label, t.node_id) AS label
FROM %s t LEFT JOIN %s n ON n.node_id = t.node_id`, b.w("touched"), known))...)
	s = append(s, b.components("merge", fmt.Sprintf(
		`SELECT DISTINCT LEAST(la, lb) AS a, GREATEST(la, lb) AS b
FROM (
  SELECT COALESCE(na.label, e.a) AS la, COALESCE(nb.label, e.b) AS lb
  FROM %s e LEFT JOIN %s na ON na.node_id = e.a LEFT JOIN %s nb ON nb.node_id = e.b
) x
WHERE la <> lb`, b.w("e_changed"), known, known), b.w("merge"))...)
	return s
}

// affected builds the scratch nodes, edges and labels of every identifier of
// the affected components, renumbered in byte order.
func (b *builder) affected() []program.Step {
	known, ns, es := b.t.Q(b.t.IdentityNodes()), b.t.Q(b.t.IdentityNodeSources()), b.t.Q(b.t.IdentityEdges())
	aff, merge := b.w("aff"), b.w("merge")
	var s []program.Step
	s = append(s, b.ctas("every identifier of the affected components, with its new raw component", "aff", fmt.Sprintf(
		`SELECT n.node_id AS gid, n.id_type, n.id_value, n.type_rank, m.label AS raw
FROM %s n JOIN %s m ON m.node_id = n.label
UNION ALL
SELECT n.node_id, n.id_type, n.id_value, n.type_rank, m.label
FROM %s n JOIN %s m ON m.node_id = n.node_id
WHERE n.excluded_by IS NULL`, known, merge, b.w("new_nodes"), merge))...)
	s = append(s, b.ctas("their (identifier, source) rows, merged with the batch", "mns", fmt.Sprintf(
		`SELECT o.node_id, o.source, o.min_ts, o.max_ts
FROM %s o JOIN %s x ON x.gid = o.node_id
WHERE NOT EXISTS (SELECT 1 FROM %[3]s c WHERE c.node_id = o.node_id AND c.source = o.source)
UNION ALL
SELECT node_id, source, min_ts, max_ts FROM %[3]s`, ns, aff, b.w("ns_changed")))...)
	s = append(s, b.ctas("nodes: the affected identifiers, numbered in byte order", "nodes", fmt.Sprintf(
		`SELECT ROW_NUMBER() OVER (ORDER BY %s, %s) AS node_id, a.gid, a.raw, a.id_type, a.id_value,
  g.first_seen_at, g.last_seen_at, g.source_count, a.type_rank, %s AS excluded_by
FROM %s a
JOIN (
  SELECT node_id, COALESCE(MIN(min_ts), %s) AS first_seen_at, MAX(max_ts) AS last_seen_at, COUNT(*) AS source_count
  FROM %s
  GROUP BY node_id
) g ON g.node_id = a.gid`, b.d.ByteOrder("a.id_type"), b.d.ByteOrder("a.id_value"), b.d.CastText("NULL"),
		aff, b.d.TimestampLiteral(b.o.AsOf), b.w("mns")))...)
	s = append(s, b.ctas("every link of the affected components, merged with the batch", "medges", fmt.Sprintf(
		`SELECT o.a, o.b, o.tier, o.ts
FROM %s o JOIN %s x ON x.gid = o.a
WHERE NOT EXISTS (SELECT 1 FROM %[3]s c WHERE c.a = o.a AND c.b = o.b)
UNION ALL
SELECT a, b, tier, ts FROM %[3]s`, es, aff, b.w("e_changed")))...)
	s = append(s, b.ctas("edges: those links between renumbered nodes", "edges", fmt.Sprintf(
		`SELECT LEAST(na.node_id, nb.node_id) AS a, GREATEST(na.node_id, nb.node_id) AS b, e.tier, e.ts
FROM %s e JOIN %s na ON na.gid = e.a JOIN %s nb ON nb.gid = e.b`, b.w("medges"), b.w("nodes"), b.w("nodes")))...)
	s = append(s, b.ctas("labels: each affected component, labelled by its smallest node", "labels",
		"SELECT node_id, MIN(node_id) OVER (PARTITION BY raw) AS label FROM "+b.w("nodes"))...)
	return s
}

// applyIncremental replaces the affected components' rows of the
// identifiers and audit tables and updates the state, in one transaction, and
// lists the changed profiles for the profiles node.
func (b *builder) applyIncremental() []program.Step {
	q := b.d.QuoteIdent
	ids, audit := b.t.Q(b.t.Identifiers()), b.t.Q(b.t.Audit())
	known, ns, es := b.t.Q(b.t.IdentityNodes()), b.t.Q(b.t.IdentityNodeSources()), b.t.Q(b.t.IdentityEdges())
	members, merge := b.w("members"), b.w("merge")
	var s []program.Step
	s = append(s, program.Stmts("profiles whose identifiers changed (read by the profiles node)",
		b.d.CreateTableAs(b.t.Q(b.t.ChangedProfiles()), fmt.Sprintf(
			"SELECT DISTINCT %[1]s FROM (SELECT prev_profile_id AS %[1]s FROM %[2]s WHERE prev_profile_id IS NOT NULL UNION ALL SELECT profile_id FROM %[3]s) AS u",
			q("profile_id"), members, b.w("pids")))...)...)
	s = append(s, program.S("audit table (empty before a first run)", AuditDDL(b.d, audit)))
	key := func(typ, val string) string { return typ + " || ':' || " + val }
	s = append(s, program.Atomic("replace the affected components' identifiers and audit rows; update the state",
		fmt.Sprintf("DELETE FROM %s WHERE profile_id IN (SELECT prev_profile_id FROM %s)", ids, members),
		fmt.Sprintf("INSERT INTO %s (id_type, id_value, profile_id, first_seen_at, last_seen_at, source_count)\n%s",
			ids, b.identifiersSQL()),
		fmt.Sprintf("DELETE FROM %s WHERE kind IN (%s, %s) AND %s IN (SELECT %s FROM %s)", audit,
			b.q("limit"), b.q("oversized"), key("id_type_a", "id_value_a"), key("id_type", "id_value"), b.w("nodes")),
		fmt.Sprintf("INSERT INTO %s (run_id, kind, id_type_a, id_value_a, id_type_b, id_value_b, reason)\n%s",
			audit, b.auditSQL(b.w("new_nodes"), audit)),
		b.d.UpdateFrom(known+" AS n", "label", "m.label", merge+" AS m", "m.node_id = n.label AND m.label <> n.label"),
		fmt.Sprintf(`INSERT INTO %s (node_id, id_type, id_value, type_rank, excluded_by, label)
SELECT n.node_id, n.id_type, n.id_value, n.type_rank, n.excluded_by, m.label
FROM %s n LEFT JOIN %s m ON m.node_id = n.node_id`, known, b.w("new_nodes"), merge),
		fmt.Sprintf("DELETE FROM %s WHERE node_id IN (SELECT node_id FROM %s)", ns, b.w("ns_changed")),
		fmt.Sprintf("INSERT INTO %s (node_id, source, min_ts, max_ts)\nSELECT node_id, source, min_ts, max_ts FROM %s WHERE node_id IN (SELECT node_id FROM %s)",
			ns, b.w("mns"), b.w("ns_changed")),
		fmt.Sprintf("DELETE FROM %s WHERE a IN (SELECT a FROM %s)", es, b.w("e_changed")),
		fmt.Sprintf("INSERT INTO %s (a, b, tier, ts)\nSELECT a, b, tier, ts FROM %s WHERE a IN (SELECT a FROM %s)",
			es, b.w("medges"), b.w("e_changed")),
	))
	return s
}
