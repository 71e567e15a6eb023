package identity

import (
	"fmt"
	"time"

	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/program"
	"github.com/cdpkit/cdp/warehouse"
)

// The graph's state, kept from run to run so that an incremental build only
// reads new rows (see docs/identity.md and docs/tables.md):
//
//   - <e>_identity_nodes (node_id, id_type, id_value, type_rank, excluded_by,
//     label): every identifier ever seen; label is its raw component (the
//     smallest node_id of the component over all links, before limits),
//     NULL for excluded identifiers.
//   - <e>_identity_node_sources (node_id, source, min_ts, max_ts): per kept
//     identifier and source, the earliest and latest row time.
//   - <e>_identity_edges (a, b, tier, ts): every link, a < b, with its tier
//     and earliest row time.
//   - <e>_watermarks (source, watermark, as_of, fingerprint, run_id): per
//     source, the latest row time read by the last successful complete run.

// persist rewrites the graph's state after a full build.
func (b *builder) persist() []program.Step {
	nodes, labels := b.w("nodes"), b.w("labels")
	var s []program.Step
	s = append(s, program.Atomic("state: every identifier with its raw component", b.d.CreateTableAs(
		b.t.Q(b.t.IdentityNodes()), fmt.Sprintf(
			`SELECT n.node_id, n.id_type, n.id_value, n.type_rank, n.excluded_by, l.label
FROM %s n LEFT JOIN %s l ON l.node_id = n.node_id`, nodes, labels))...))
	s = append(s, program.Atomic("state: earliest and latest row per identifier and source", b.d.CreateTableAs(
		b.t.Q(b.t.IdentityNodeSources()), fmt.Sprintf(
			`SELECT n.node_id, s.source, s.min_ts, s.max_ts
FROM %s s JOIN %s n ON n.id_type = s.id_type AND n.id_value = s.id_value AND n.excluded_by IS NULL`,
			b.w("srcnodes"), nodes))...))
	s = append(s, program.Atomic("state: every link", b.d.CreateTableAs(
		b.t.Q(b.t.IdentityEdges()), "SELECT a, b, tier, ts FROM "+b.w("edges"))...))
	return s
}

// Watermarks are the state an incremental run starts from, read from
// `<e>_watermarks` before compiling: per source its watermark (sources
// without one are read whole), and the previous run's as-of. A nil
// *Watermarks makes the SQL read them from the table instead (what `cdp
// compile --incremental` shows without a connection).
type Watermarks struct {
	Source   map[string]time.Time
	PrevAsOf time.Time
}

// BatchFilter is the condition on a source's rows (tsCol is their time) that
// an incremental run reads: rows at or after the source's watermark minus its
// overlap, and rows without a time. It is empty when every row is read: a
// source without a timestamp or without a watermark.
func BatchFilter(p *models.Project, t layout.Tables, s *models.Source, tsCol string, wm *Watermarks) string {
	if s.Timestamp == "" {
		return ""
	}
	d := t.D
	h := p.OverlapHours(s)
	if wm != nil {
		mark, ok := wm.Source[s.Name]
		if !ok {
			return ""
		}
		return fmt.Sprintf("(%s >= %s OR %s IS NULL)", tsCol, d.TimestampLiteral(mark.Add(-time.Duration(h)*time.Hour)), tsCol)
	}
	bound := fmt.Sprintf("(SELECT w.%s FROM %s AS w WHERE w.%s = %s)",
		d.QuoteIdent("watermark"), t.Q(t.Watermarks()), d.QuoteIdent("source"), d.QuoteString(s.Name))
	if h > 0 {
		bound = d.SubtractHours(bound, h)
	}
	return fmt.Sprintf("COALESCE(%s >= %s, TRUE)", tsCol, bound)
}

// WatermarksDDL creates the watermarks table (quoted, qualified) if missing.
func WatermarksDDL(d warehouse.Dialect, table string) string {
	col := func(n, t string) string { return d.QuoteIdent(n) + " " + d.TypeName(t) }
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s, %s, %s, %s, %s)", table,
		col("source", models.TypeString), col("watermark", models.TypeTimestamp),
		col("as_of", models.TypeTimestamp), col("fingerprint", models.TypeString), col("run_id", models.TypeString))
}

// maxNullable is the larger of two nullable expressions, ignoring NULLs.
func maxNullable(a, c string) string {
	return fmt.Sprintf("CASE WHEN %[1]s IS NULL THEN %[2]s WHEN %[2]s IS NULL THEN %[1]s WHEN %[1]s > %[2]s THEN %[1]s ELSE %[2]s END", a, c)
}

// ddl renders CREATE TABLE IF NOT EXISTS with (name, CDP type) columns.
func ddl(d warehouse.Dialect, table string, cols ...string) string {
	out := "CREATE TABLE IF NOT EXISTS " + table + " ("
	for i := 0; i+1 < len(cols); i += 2 {
		if i > 0 {
			out += ", "
		}
		out += d.QuoteIdent(cols[i]) + " " + d.TypeName(cols[i+1])
	}
	return out + ")"
}

// NodesDDL creates <e>_identity_nodes if missing.
func NodesDDL(d warehouse.Dialect, table string) string {
	return ddl(d, table, "node_id", models.TypeInteger, "id_type", models.TypeString, "id_value", models.TypeString,
		"type_rank", models.TypeInteger, "excluded_by", models.TypeString, "label", models.TypeInteger)
}

// NodeSourcesDDL creates <e>_identity_node_sources if missing.
func NodeSourcesDDL(d warehouse.Dialect, table string) string {
	return ddl(d, table, "node_id", models.TypeInteger, "source", models.TypeString,
		"min_ts", models.TypeTimestamp, "max_ts", models.TypeTimestamp)
}

// EdgesDDL creates <e>_identity_edges if missing.
func EdgesDDL(d warehouse.Dialect, table string) string {
	return ddl(d, table, "a", models.TypeInteger, "b", models.TypeInteger, "tier", models.TypeInteger, "ts", models.TypeTimestamp)
}

// AuditDDL creates <e>_identity_audit if missing.
func AuditDDL(d warehouse.Dialect, table string) string {
	return ddl(d, table, "run_id", models.TypeString, "kind", models.TypeString, "id_type_a", models.TypeString,
		"id_value_a", models.TypeString, "id_type_b", models.TypeString, "id_value_b", models.TypeString,
		"reason", models.TypeString)
}
