package identity

import (
	"fmt"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/program"
	"github.com/cdpkit/cdp/warehouse"
)

// profileIDLength is the number of hex digits of a minted profile ID.
const profileIDLength = 16

// final picks each node's component: the limit rebuild where it ran, else
// the plain components.
func (b *builder) final() []program.Step {
	if len(b.lims) == 0 {
		return b.ctas("components", "comp", "SELECT node_id, label FROM "+b.w("labels"))
	}
	return b.ctas("components after the limit rules", "comp", fmt.Sprintf(
		"SELECT l.node_id, COALESCE(v.cluster, l.label) AS label FROM %s l LEFT JOIN %s v ON v.node_id = l.node_id",
		b.w("labels"), b.w("vn")))
}

// minNullable is the smaller of two nullable expressions, ignoring NULLs
// (LEAST's NULL handling differs between warehouses).
func minNullable(a, c string) string {
	return fmt.Sprintf("CASE WHEN %[1]s IS NULL THEN %[2]s WHEN %[2]s IS NULL THEN %[1]s WHEN %[1]s < %[2]s THEN %[1]s ELSE %[2]s END", a, c)
}

// IdentifiersDDL creates the identifiers table when it does not exist yet.
func IdentifiersDDL(d warehouse.Dialect, table string) string {
	col := func(n, t string) string { return d.QuoteIdent(n) + " " + d.TypeName(t) }
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s, %s, %s, %s, %s, %s)", table,
		col("id_type", models.TypeString), col("id_value", models.TypeString), col("profile_id", models.TypeString),
		col("first_seen_at", models.TypeTimestamp), col("last_seen_at", models.TypeTimestamp),
		col("source_count", models.TypeInteger))
}

// profileIDs keeps profile IDs stable: a previous profile is claimed by the
// component holding its oldest surviving identifier; a component keeps its
// oldest claimed profile; others mint md5(type:value) of their oldest
// identifier (salted with the run ID on the rare collision with an old ID).
func (b *builder) profileIDs() []program.Step {
	prev := b.t.Q(b.t.Identifiers())
	members, ages, claims, chosen, oldest := b.w("members"), b.w("ages"), b.w("claims"), b.w("chosen"), b.w("oldest")
	var s []program.Step
	s = append(s, program.S("previous identifiers (empty on the first run)", IdentifiersDDL(b.d, prev)))
	s = append(s, b.ctas("members with their previous profile", "members", fmt.Sprintf(
		`SELECT c.label, n.id_type, n.id_value, %s AS first_seen_at, n.last_seen_at, n.source_count,
  o.profile_id AS prev_profile_id
FROM %s c JOIN %s n ON n.node_id = c.node_id
LEFT JOIN %s o ON o.id_type = n.id_type AND o.id_value = n.id_value`,
		minNullable("o.first_seen_at", "n.first_seen_at"), b.w("comp"), b.w("nodes"), prev))...)
	s = append(s, b.ctas("age of every previous profile of these identifiers", "ages", fmt.Sprintf(
		"SELECT profile_id, MIN(first_seen_at) AS age FROM %s WHERE profile_id IN (SELECT prev_profile_id FROM %s) GROUP BY profile_id",
		prev, members))...)
	s = append(s, b.ctas("each previous profile is claimed by the component of its oldest surviving identifier", "claims", fmt.Sprintf(
		`SELECT profile_id, label FROM (
  SELECT m.prev_profile_id AS profile_id, m.label,
    ROW_NUMBER() OVER (PARTITION BY m.prev_profile_id ORDER BY m.first_seen_at, %s, %s) AS rn
  FROM %s m WHERE m.prev_profile_id IS NOT NULL
) x WHERE rn = 1`, b.d.ByteOrder("m.id_type"), b.d.ByteOrder("m.id_value"), members))...)
	s = append(s, b.ctas("a component keeps its oldest claimed profile", "chosen", fmt.Sprintf(
		`SELECT label, profile_id FROM (
  SELECT c.label, c.profile_id,
    ROW_NUMBER() OVER (PARTITION BY c.label ORDER BY (a.age IS NULL), a.age, %s) AS rn
  FROM %s c JOIN %s a ON a.profile_id = c.profile_id
) x WHERE rn = 1`, b.d.ByteOrder("c.profile_id"), claims, ages))...)
	s = append(s, b.ctas("the oldest identifier of each component", "oldest", fmt.Sprintf(
		`SELECT label, id_type, id_value, n FROM (
  SELECT label, id_type, id_value, COUNT(*) OVER (PARTITION BY label) AS n,
    ROW_NUMBER() OVER (PARTITION BY label ORDER BY first_seen_at, %s, %s) AS rn
  FROM %s
) x WHERE rn = 1`, b.d.ByteOrder("id_type"), b.d.ByteOrder("id_value"), members))...)
	key := "o.id_type || ':' || o.id_value"
	mint := fmt.Sprintf("SUBSTR(%s, 1, %d)", b.d.MD5Hex(key), profileIDLength)
	salted := fmt.Sprintf("SUBSTR(%s, 1, %d)", b.d.MD5Hex(key+" || ':' || "+b.q(b.o.RunID)), profileIDLength)
	s = append(s, b.ctas("profile ID of every component", "pids", fmt.Sprintf(
		`SELECT o.label, COALESCE(ch.profile_id,
  CASE WHEN %s IN (SELECT profile_id FROM %s) THEN %s ELSE %s END) AS profile_id
FROM %s o LEFT JOIN %s ch ON ch.label = o.label`, mint, prev, salted, mint, oldest, chosen))...)
	return s
}

// outputs writes the identifiers and audit tables.
func (b *builder) outputs() []program.Step {
	var s []program.Step
	s = append(s, program.Atomic("identifiers: one row per normalized identifier", b.d.CreateTableAs(
		b.t.Q(b.t.Identifiers()), b.identifiersSQL())...))
	s = append(s, program.Atomic("audit: excluded and invalid values, links dropped by limits, oversized profiles",
		b.d.CreateTableAs(b.t.Q(b.t.Audit()), b.auditSQL(b.w("nodes"), ""))...))
	return s
}

// identifiersSQL selects the identifiers table's rows of the built components.
func (b *builder) identifiersSQL() string {
	return fmt.Sprintf(`SELECT m.id_type, m.id_value, p.profile_id, m.first_seen_at, m.last_seen_at, m.source_count
FROM %s m JOIN %s p ON p.label = m.label`, b.w("members"), b.w("pids"))
}

// auditSQL selects the audit rows: excluded identifiers of the excluded
// table (a nodes-shaped table), invalid values (those already in the audit
// table prev, when given, are left out), links the limits dropped, oversized
// profiles.
func (b *builder) auditSQL(excluded, prev string) string {
	text, nodes := b.d.CastText("NULL"), b.w("nodes")
	run := b.q(b.o.RunID)
	audit := fmt.Sprintf(
		`SELECT %[1]s AS run_id, %[2]s AS kind, id_type AS id_type_a, id_value AS id_value_a,
  %[3]s AS id_type_b, %[3]s AS id_value_b, excluded_by AS reason
FROM %[4]s WHERE excluded_by IS NOT NULL`, run, b.q("excluded"), text, excluded)
	audit += fmt.Sprintf(`
UNION ALL
SELECT %s, %s, i.id_type, i.id_value, %s, %s, i.reason
FROM %s i`, run, b.q("invalid"), text, text, b.w("invalid"))
	if prev != "" {
		audit += fmt.Sprintf(`
WHERE NOT EXISTS (SELECT 1 FROM %s a WHERE a.kind = %s AND a.id_type_a = i.id_type AND a.id_value_a = i.id_value)`,
			prev, b.q("invalid"))
	}
	if len(b.lims) > 0 {
		audit += fmt.Sprintf(`
UNION ALL
SELECT %s, %s, na.id_type, na.id_value, nb.id_type, nb.id_value, r.reason
FROM %s r JOIN %s na ON na.node_id = r.a JOIN %s nb ON nb.node_id = r.b`,
			run, b.q("limit"), b.w("rej"), nodes, nodes)
	}
	audit += fmt.Sprintf(`
UNION ALL
SELECT %s, %s, o.id_type, o.id_value, %s, %s,
  'profile has ' || %s || ' identifiers, above max_profile_identifiers %d'
FROM %s o WHERE o.n > %d`, run, b.q("oversized"), text, text, b.d.CastText("o.n"),
		b.p.Identity.MaxProfileIdentifiers, b.w("oldest"), b.p.Identity.MaxProfileIdentifiers)
	return audit
}

// cleanup drops every scratch table.
func (b *builder) cleanup() []program.Step {
	var s []program.Step
	for _, w := range b.work {
		s = append(s, program.S("drop scratch table", b.d.DropTable(w)))
	}
	return s
}
