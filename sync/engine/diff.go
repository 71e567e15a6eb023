package engine

import (
	"fmt"
	"strings"

	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/hashing"
)

// allOps is every diff operation (a baseline commits them all).
var allOps = []destination.Op{destination.OpAdd, destination.OpChange, destination.OpRemove}

// opsOf lists the operations a sync mode delivers.
func opsOf(mode string) []destination.Op {
	switch mode {
	case "mirror":
		return []destination.Op{destination.OpAdd, destination.OpChange, destination.OpRemove}
	case "insert":
		return []destination.Op{destination.OpAdd}
	case "update":
		return []destination.Op{destination.OpChange}
	default: // upsert
		return []destination.Op{destination.OpAdd, destination.OpChange}
	}
}

// unconfirmed is the fields_hash of a state row kept for an add that failed
// without an answer (it may have reached the destination): the next run
// sends the record as an add again, or removes it if it left the audience.
const unconfirmed = "unconfirmed"

// fieldCol names the diff column of the i-th mapped field.
func fieldCol(i int) string { return fmt.Sprintf("f_%d", i) }

// membersSQL selects the sync's audience: every profile in the segment (or
// every profile) with its key; holdout members are excluded here.
func membersSQL(t layout.Tables, s *models.Sync) string {
	d := t.D
	from := t.Q(t.Profiles()) + " AS p"
	if !s.AllProfiles {
		from += fmt.Sprintf("\n  JOIN %s AS m ON m.profile_id = p.profile_id AND m.segment = %s AND NOT m.in_holdout",
			t.Q(t.Segments()), d.QuoteString(s.Segment))
	}
	return from
}

// fieldSQL is the value of a mapped field: the trait, or with a hash
// profile the trait's normalized SHA-256 computed in the warehouse, so the
// plain value never leaves it.
func fieldSQL(t layout.Tables, f models.FieldMap) string {
	col := "p." + t.D.QuoteIdent(f.Trait)
	if f.Hash == "" {
		return col
	}
	return hashing.Lookup(f.Hash).SQL(t.D, col)
}

// hashSQL is an unambiguous fingerprint of the mapped field names and values:
// each value is length-prefixed, NULL is its own marker.
func hashSQL(t layout.Tables, s *models.Sync) string {
	d := t.D
	names := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		names[i] = f.Field + "=" + f.Trait
		if f.Hash != "" {
			names[i] += "#" + f.Hash
		}
	}
	parts := []string{d.QuoteString(strings.Join(names, ","))}
	for _, f := range s.Fields {
		v := d.CastText(fieldSQL(t, f))
		parts = append(parts, fmt.Sprintf("CASE WHEN %[1]s IS NULL THEN '~' ELSE %[2]s || ':' || %[1]s END",
			v, d.CastText("LENGTH("+v+")")))
	}
	return d.MD5Hex(strings.Join(parts, " || '|' || "))
}

// diffSQL compares the snapshot with cdp_sync_state: one row per key to add,
// change or remove, with the new field values (or the last delivered fields
// for removals). With full, every member counts as changed. (A LEFT JOIN
// plus NOT EXISTS rather than a FULL OUTER JOIN, which the BigQuery
// emulator gets wrong when one side is empty.)
func diffSQL(t layout.Tables, s *models.Sync, full bool) string {
	d := t.D
	key := d.CastText("p." + d.QuoteIdent(s.Key))
	var cols, snapCols []string
	for i, f := range s.Fields {
		snapCols = append(snapCols, fieldSQL(t, f)+" AS "+fieldCol(i))
		cols = append(cols, "snap."+fieldCol(i))
	}
	changed := "st.fields_hash <> snap.row_hash"
	if full {
		changed = "1 = 1"
	}
	return fmt.Sprintf(`WITH members AS (
  SELECT p.profile_id, %[1]s AS k, %[2]s AS row_hash%[3]s,
    ROW_NUMBER() OVER (PARTITION BY %[1]s ORDER BY %[4]s) AS dup
  FROM %[5]s
  WHERE p.%[6]s IS NOT NULL
), snap AS (
  SELECT * FROM members WHERE dup = 1
), st AS (
  SELECT key, fields_hash, fields, remote_id FROM %[7]s WHERE sync = %[8]s
)
SELECT
  CASE WHEN st.key IS NULL OR st.fields_hash = '`+unconfirmed+`' THEN 'add' ELSE 'change' END AS op,
  snap.k AS key, snap.row_hash, snap.profile_id%[9]s, %[12]s AS prev_fields, st.remote_id
FROM snap LEFT JOIN st ON st.key = snap.k
WHERE st.key IS NULL OR %[10]s
UNION ALL
SELECT 'remove' AS op, st.key, NULL, NULL%[11]s, %[12]s, st.remote_id
FROM st WHERE NOT EXISTS (SELECT 1 FROM snap WHERE snap.k = st.key)`,
		key, hashSQL(t, s), prefixComma(snapCols), d.ByteOrder("p.profile_id"), membersSQL(t, s),
		d.QuoteIdent(s.Key), t.Q(t.SyncState()), d.QuoteString(s.Name), prefixComma(cols), changed,
		strings.Repeat(", NULL", len(cols)), d.CastText("st.fields"))
}

// skippedSQL counts members that are never delivered: holdout, null key, and
// duplicate keys (only one profile per key is synced).
func skippedSQL(t layout.Tables, s *models.Sync) string {
	d := t.D
	key := "p." + d.QuoteIdent(s.Key)
	holdout := "0"
	from := t.Q(t.Profiles()) + " AS p"
	if !s.AllProfiles {
		from += fmt.Sprintf(" JOIN %s AS m ON m.profile_id = p.profile_id AND m.segment = %s",
			t.Q(t.Segments()), d.QuoteString(s.Segment))
		holdout = "COUNT(CASE WHEN m.in_holdout THEN 1 END)"
		key = "CASE WHEN m.in_holdout THEN NULL ELSE " + key + " END"
		return fmt.Sprintf(`SELECT %s AS holdout,
  COUNT(CASE WHEN NOT m.in_holdout AND p.%s IS NULL THEN 1 END) AS null_key,
  COUNT(%s) - COUNT(DISTINCT %s) AS duplicate_key
FROM %s`, holdout, d.QuoteIdent(s.Key), d.CastText(key), d.CastText(key), from)
	}
	return fmt.Sprintf(`SELECT %s AS holdout, COUNT(CASE WHEN %s IS NULL THEN 1 END) AS null_key,
  COUNT(%s) - COUNT(DISTINCT %s) AS duplicate_key
FROM %s`, holdout, key, d.CastText(key), d.CastText(key), from)
}

// streamSQL reads the diff rows of the given operations, in key order.
func streamSQL(t layout.Tables, s *models.Sync, table string, ops []destination.Op) string {
	d := t.D
	cols := []string{"op", "key", "row_hash", "prev_fields", "remote_id"}
	for i := range s.Fields {
		cols = append(cols, fieldCol(i))
	}
	return fmt.Sprintf("SELECT %s FROM %s WHERE op IN (%s) ORDER BY %s",
		strings.Join(cols, ", "), table, opList(t, ops), d.ByteOrder("key"))
}

func opList(t layout.Tables, ops []destination.Op) string {
	q := make([]string, len(ops))
	for i, o := range ops {
		q[i] = t.D.QuoteString(string(o))
	}
	return strings.Join(q, ", ")
}

func prefixComma(cols []string) string {
	if len(cols) == 0 {
		return ""
	}
	return ", " + strings.Join(cols, ", ")
}
