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
var allOps = []destination.Op{destination.OpAdd, destination.OpChange, destination.OpRemove, destination.OpUnsubscribe, destination.OpErase}

// opsOf lists the operations a sync delivers: those of its mode, plus
// unsubscribes when it sets `on_withdrawal: unsubscribe`, and erasures
// (both in every mode).
func opsOf(s *models.Sync) []destination.Op {
	var ops []destination.Op
	switch s.Mode {
	case "mirror":
		ops = []destination.Op{destination.OpAdd, destination.OpChange, destination.OpRemove}
	case "insert":
		ops = []destination.Op{destination.OpAdd}
	case "update":
		ops = []destination.Op{destination.OpChange}
	default: // upsert
		ops = []destination.Op{destination.OpAdd, destination.OpChange}
	}
	if s.OnWithdrawal == models.WithdrawalUnsubscribe {
		ops = append(ops, destination.OpUnsubscribe)
	}
	return append(ops, destination.OpErase)
}

// removesState reports whether a confirmed op ends the record's delivery:
// its state row is deleted, and the record carries the last delivered
// fields.
func removesState(op destination.Op) bool {
	return op == destination.OpRemove || op == destination.OpUnsubscribe || op == destination.OpErase
}

// unconfirmed is the fields_hash of a state row kept for an add that failed
// without an answer (it may have reached the destination): the next run
// sends the record as an add again, or removes it if it left the audience.
const unconfirmed = "unconfirmed"

// fieldCol names the diff column of the i-th mapped field.
func fieldCol(i int) string { return fmt.Sprintf("f_%d", i) }

// audience is how a sync reads its members: the FROM clause over the
// profiles (alias p) with the joins of the segment (m), the required
// consents (cs) and the suppression lists (sup), and the conditions those
// joins decide.
type audience struct {
	from string
	// hold, suppressed and consented are SQL conditions on one row of from.
	hold, suppressed, consented string
}

// eligible is the condition of a member that is delivered: not in the
// holdout, not suppressed, and with every required consent.
func (a audience) eligible() string {
	return "NOT (" + a.hold + ") AND NOT (" + a.suppressed + ") AND (" + a.consented + ")"
}

// audienceOf builds the audience of a sync. Holdout members are in from
// (the condition hold tells them); a profile is suppressed when it is in
// <e>_suppressed (any suppression list: the lists apply to every sync), and
// consented when <e>_consent allows every purpose of requires_consent.
func audienceOf(t layout.Tables, p *models.Project, s *models.Sync) audience {
	d := t.D
	a := audience{from: t.Q(t.Profiles()) + " AS p", hold: "FALSE", suppressed: "FALSE", consented: "TRUE"}
	if !s.AllProfiles {
		a.from += fmt.Sprintf("\n  JOIN %s AS m ON m.profile_id = p.profile_id AND m.segment = %s",
			t.Q(t.Segments()), d.QuoteString(s.Segment))
		a.hold = "m.in_holdout"
	}
	if p != nil && len(p.Suppressions) > 0 {
		a.from += "\n  LEFT JOIN (SELECT DISTINCT profile_id FROM " + t.Q(t.Suppressed()) + ") AS sup ON sup.profile_id = p.profile_id"
		a.suppressed = "sup.profile_id IS NOT NULL"
	}
	if len(s.RequiresConsent) > 0 {
		join, cond := consentJoin(t, s.RequiresConsent)
		a.from += join
		a.consented = cond
	}
	return a
}

// consentJoin is the LEFT JOIN (alias cs, onto profiles p) counting the
// purposes <e>_consent allows each profile, and the condition that every
// one of purposes is allowed.
func consentJoin(t layout.Tables, purposes []string) (join, cond string) {
	quoted := make([]string, len(purposes))
	for i, u := range purposes {
		quoted[i] = t.D.QuoteString(u)
	}
	return "\n  LEFT JOIN (SELECT profile_id, COUNT(*) AS n FROM " + t.Q(t.Consent()) +
			" WHERE allowed AND purpose IN (" + strings.Join(quoted, ", ") + ") GROUP BY profile_id) AS cs ON cs.profile_id = p.profile_id",
		fmt.Sprintf("COALESCE(cs.n, 0) = %d", len(purposes))
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
//
// With `on_withdrawal: unsubscribe`, a delivered key whose profile lacks a
// required consent (whether or not it is still in the segment) is an
// unsubscribe rather than a removal. A delivered key of a forgotten person
// (erasedCTE) is an erase, and such a key is never added.
func diffSQL(t layout.Tables, p *models.Project, s *models.Sync, full bool) string {
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
	a := audienceOf(t, p, s)
	removeOp, withdrawn, withdrawnJoin := "'remove'", "", ""
	if s.OnWithdrawal == models.WithdrawalUnsubscribe {
		join, consented := consentJoin(t, s.RequiresConsent)
		withdrawn = fmt.Sprintf(`, withdrawn AS (
  SELECT DISTINCT %s AS k FROM %s AS p%s
  WHERE p.%s IS NOT NULL AND NOT (%s)
)`, key, t.Q(t.Profiles()), join, d.QuoteIdent(s.Key), consented)
		removeOp = "CASE WHEN w.k IS NULL THEN 'remove' ELSE 'unsubscribe' END"
		withdrawnJoin = " LEFT JOIN withdrawn AS w ON w.k = st.key"
	}
	withdrawn += erasedCTE(t, s)
	removeOp = "CASE WHEN er.k IS NOT NULL THEN 'erase' ELSE " + removeOp + " END"
	withdrawnJoin += " LEFT JOIN erased AS er ON er.k = st.key"
	return fmt.Sprintf(`WITH members AS (
  SELECT p.profile_id, %[1]s AS k, %[2]s AS row_hash%[3]s,
    ROW_NUMBER() OVER (PARTITION BY %[1]s ORDER BY %[4]s) AS dup
  FROM %[5]s
  WHERE p.%[6]s IS NOT NULL AND %[13]s
), snap AS (
  SELECT * FROM members WHERE dup = 1
), st AS (
  SELECT key, fields_hash, fields, remote_id FROM %[7]s WHERE sync = %[8]s
)%[14]s
SELECT
  CASE WHEN st.key IS NULL OR st.fields_hash = '`+unconfirmed+`' THEN 'add' ELSE 'change' END AS op,
  snap.k AS key, snap.row_hash, snap.profile_id%[9]s, %[12]s AS prev_fields, st.remote_id
FROM snap LEFT JOIN st ON st.key = snap.k
WHERE (st.key IS NULL OR %[10]s) AND NOT EXISTS (SELECT 1 FROM erased WHERE erased.k = snap.k)
UNION ALL
SELECT %[15]s AS op, st.key, NULL, NULL%[11]s, %[12]s, st.remote_id
FROM st%[16]s WHERE er.k IS NOT NULL OR NOT EXISTS (SELECT 1 FROM snap WHERE snap.k = st.key)`,
		key, hashSQL(t, s), prefixComma(snapCols), d.ByteOrder("p.profile_id"), a.from,
		d.QuoteIdent(s.Key), t.Q(t.SyncState()), d.QuoteString(s.Name), prefixComma(cols), changed,
		strings.Repeat(", NULL", len(cols)), d.CastText("st.fields"), a.eligible(), withdrawn, removeOp, withdrawnJoin)
}

// skippedSQL counts members that are never delivered: holdout, suppressed,
// without a required consent, null key, and duplicate keys (only one
// profile per key is synced), each member counted once in that order.
func skippedSQL(t layout.Tables, p *models.Project, s *models.Sync) string {
	d := t.D
	a := audienceOf(t, p, s)
	key := d.CastText("p." + d.QuoteIdent(s.Key))
	elig := a.eligible()
	return fmt.Sprintf(`SELECT COUNT(CASE WHEN %[1]s THEN 1 END) AS holdout,
  COUNT(CASE WHEN NOT (%[1]s) AND %[2]s THEN 1 END) AS suppressed,
  COUNT(CASE WHEN NOT (%[1]s) AND NOT (%[2]s) AND NOT (%[3]s) THEN 1 END) AS no_consent,
  COUNT(CASE WHEN %[4]s AND %[5]s IS NULL THEN 1 END) AS null_key,
  COUNT(CASE WHEN %[4]s THEN %[5]s END) - COUNT(DISTINCT CASE WHEN %[4]s THEN %[5]s END) AS duplicate_key
FROM %[6]s`, a.hold, a.suppressed, a.consented, elig, key, a.from)
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
