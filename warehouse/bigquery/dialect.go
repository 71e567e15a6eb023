package bigquery

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// Type is the target type this package registers.
const Type = "bigquery"

// ClusterColumn is the column every output table that has it is clustered by.
const ClusterColumn = "profile_id"

// Dialect renders GoogleSQL for BigQuery. The zero value is ready to use.
type Dialect struct{}

var _ warehouse.Dialect = Dialect{}

// Name returns "bigquery".
func (Dialect) Name() string { return Type }

// QuoteIdent wraps name in backticks. Backticks, backslashes and control
// characters are escaped as in string literals (\`, \\, \n, \x01 …).
func (Dialect) QuoteIdent(name string) string { return "`" + escape(name, '`') + "`" }

// QuoteString renders s as a single-quoted literal with backslash escapes:
// 'it\'s', 'a\\b', 'line\n'. Invalid UTF-8 is not representable in a
// STRING and is left to the server to refuse.
func (Dialect) QuoteString(s string) string { return "'" + escape(s, '\'') + "'" }

// escape backslash-escapes quote, backslashes and control characters.
func escape(s string, quote byte) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == quote || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c == 0x7f:
			b.WriteString(`\x`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&15])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Table returns `schema`.`table`, or just `table` when schema is empty. A
// schema may name another project as project.dataset; each part is quoted.
func (d Dialect) Table(schema, table string) string {
	if schema == "" {
		return d.QuoteIdent(table)
	}
	return d.QuoteIdent(schema) + "." + d.QuoteIdent(table)
}

// Relation quotes each dot-separated part of a user-written relation:
// my-project.raw.crm_contacts becomes `my-project`.`raw`.`crm_contacts`.
// Parts written in backticks (or, as on the other dialects, double quotes)
// stay one part.
func (d Dialect) Relation(name string) string {
	parts := splitRelation(name)
	for i, p := range parts {
		parts[i] = d.QuoteIdent(p)
	}
	return strings.Join(parts, ".")
}

// splitRelation splits name on dots outside backticks and double quotes,
// removing the quotes (undoubling a doubled quote inside them).
func splitRelation(name string) []string {
	var parts []string
	var cur strings.Builder
	var quote byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case quote != 0 && c == quote && i+1 < len(name) && name[i+1] == quote:
			cur.WriteByte(c)
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '`' || c == '"'):
			quote = c
		case quote == 0 && c == '.':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(parts, cur.String())
}

// TypeName maps a CDP type to a BigQuery column type; unknown types map to
// STRING. JSON documents (sync state fields) are kept as STRING too: the CDP
// only stores and compares their text, and BigQuery's JSON type cannot be
// cast back to STRING.
func (Dialect) TypeName(cdpType string) string {
	switch cdpType {
	case models.TypeInteger:
		return "INT64"
	case models.TypeNumber:
		return "FLOAT64"
	case models.TypeBoolean:
		return "BOOL"
	case models.TypeTimestamp:
		return "TIMESTAMP"
	case models.TypeDate:
		return "DATE"
	}
	return "STRING"
}

// CastText casts expr to STRING.
func (Dialect) CastText(expr string) string { return "CAST(" + expr + " AS STRING)" }

// Cast casts expr to the column type of a CDP type.
func (d Dialect) Cast(expr, cdpType string) string {
	return "CAST(" + expr + " AS " + d.TypeName(cdpType) + ")"
}

// TimestampLiteral renders t in UTC with microseconds and an explicit
// offset: TIMESTAMP '2024-05-01 13:04:05.000000+00:00'. (BigQuery reads a
// literal without zone as UTC, the emulator as America/Los_Angeles in DML.)
func (Dialect) TimestampLiteral(t time.Time) string {
	return "TIMESTAMP '" + t.UTC().Format("2006-01-02 15:04:05.000000") + "+00:00'"
}

// SubtractHours renders TIMESTAMP_SUB(ts, INTERVAL N HOUR).
func (Dialect) SubtractHours(tsExpr string, hours int) string {
	return "TIMESTAMP_SUB(" + tsExpr + ", INTERVAL " + strconv.Itoa(hours) + " HOUR)"
}

// RegexpMatch renders REGEXP_CONTAINS(expr, pattern); BigQuery uses RE2.
func (d Dialect) RegexpMatch(expr, pattern string) string {
	return "REGEXP_CONTAINS(" + expr + ", " + d.pattern(pattern) + ")"
}

// RegexpReplaceAll renders REGEXP_REPLACE(expr, pattern, repl), which
// replaces every match. In repl, \1…\9 refer to groups and \\ is a literal
// backslash.
func (d Dialect) RegexpReplaceAll(expr, pattern, repl string) string {
	return "REGEXP_REPLACE(" + expr + ", " + d.pattern(pattern) + ", " + d.pattern(repl) + ")"
}

// pattern renders a regular expression as a raw string r'…' when that is
// exact (printable, no quote, no trailing backslash), for readability, and as
// an escaped literal otherwise.
func (d Dialect) pattern(p string) string {
	raw := !strings.HasSuffix(p, `\`) && !strings.ContainsRune(p, '\'')
	for _, r := range p {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			raw = false
		}
	}
	if raw && utf8.ValidString(p) {
		return "r'" + p + "'"
	}
	return d.QuoteString(p)
}

// MD5Hex renders TO_HEX(MD5(expr)), lowercase hex.
func (Dialect) MD5Hex(expr string) string { return "TO_HEX(MD5(" + expr + "))" }

// SHA256Hex renders TO_HEX(SHA256(expr)): SHA256 of a STRING hashes its
// UTF-8 bytes and TO_HEX writes lowercase hex.
func (Dialect) SHA256Hex(expr string) string { return "TO_HEX(SHA256(" + expr + "))" }

// HashFraction reads the first 8 hex digits of the MD5 as an INT64 (a '0x'
// string casts as hexadecimal) and divides by 2^32; INT64 / INT64 is FLOAT64
// and the quotient is exact, so every dialect returns the same float64.
func (d Dialect) HashFraction(expr string) string {
	return "(CAST(CONCAT('0x', SUBSTR(" + d.MD5Hex(expr) + ", 1, 8)) AS INT64) / 4294967296)"
}

// ByteOrder returns expr unchanged: BigQuery compares STRING values by
// Unicode code point, which is the byte order of their UTF-8. (A dataset
// with a default collation would change that; docs/bigquery.md says not to
// set one.)
func (Dialect) ByteOrder(expr string) string { return "(" + expr + ")" }

// Contains renders (STRPOS(expr, 'literal') > 0): a plain substring test.
func (d Dialect) Contains(expr, literal string) string {
	return "(STRPOS(" + expr + ", " + d.QuoteString(literal) + ") > 0)"
}

// StartsWith renders STARTS_WITH(expr, 'literal').
func (d Dialect) StartsWith(expr, literal string) string {
	return "STARTS_WITH(" + expr + ", " + d.QuoteString(literal) + ")"
}

// EndsWith renders ENDS_WITH(expr, 'literal').
func (d Dialect) EndsWith(expr, literal string) string {
	return "ENDS_WITH(" + expr + ", " + d.QuoteString(literal) + ")"
}

// CreateSchema renders CREATE SCHEMA IF NOT EXISTS; the dataset is created
// in the location of the job (the target's location setting).
func (d Dialect) CreateSchema(schema string) string {
	return "CREATE SCHEMA IF NOT EXISTS " + d.QuoteIdent(schema)
}

// CreateTableAs drops table if it exists and creates it from query,
// clustered by profile_id when the query's output has that column. (CREATE
// OR REPLACE TABLE would be atomic on BigQuery, but the emulator refuses it
// over an existing table; see docs/bigquery.md.)
func (d Dialect) CreateTableAs(table, query string) []string {
	create := "CREATE TABLE " + table
	if outputsColumn(query, ClusterColumn) {
		create += " CLUSTER BY " + d.QuoteIdent(ClusterColumn)
	}
	return []string{d.DropTable(table), create + " AS " + query}
}

// CreateView drops the view if it exists and creates it. (CREATE OR REPLACE
// VIEW would do on BigQuery, but the emulator refuses it over an existing
// view.)
func (Dialect) CreateView(view, query string) []string {
	return []string{"DROP VIEW IF EXISTS " + view, "CREATE VIEW " + view + " AS " + query}
}

// DropTable renders DROP TABLE IF EXISTS.
func (Dialect) DropTable(table string) string { return "DROP TABLE IF EXISTS " + table }

// ValidName reports whether BigQuery accepts name as a table name (and so
// also as a column name): Unicode letters, marks, numbers, connector and dash
// punctuation and spaces, at most 300 bytes. Column names allow a few more
// characters; the CDP's own names are plain snake_case.
func ValidName(name string) bool {
	if name == "" || len(name) > 300 {
		return false
	}
	for _, r := range name {
		if !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.Pc, unicode.Pd, unicode.Zs) {
			return false
		}
	}
	return true
}

// UpdateFrom renders MERGE target USING source ON cond WHEN MATCHED THEN
// UPDATE SET column = value when source is a table and cond has no
// subquery, and otherwise a correlated UPDATE: UPDATE target SET column =
// (SELECT value FROM source WHERE cond) WHERE EXISTS (…). (BigQuery also has
// UPDATE … FROM, but the emulator refuses joins in UPDATE and MERGE from a
// subquery.)
func (Dialect) UpdateFrom(target, column, value, source, cond string) string {
	if !strings.HasPrefix(source, "(") && !strings.Contains(strings.ToUpper(cond), "SELECT") {
		return "MERGE " + target + " USING " + source + " ON " + cond + " WHEN MATCHED THEN UPDATE SET " + column + " = " + value
	}
	return "UPDATE " + target + " SET " + column + " = (SELECT " + value + " FROM " + source + " WHERE " + cond +
		") WHERE EXISTS (SELECT 1 FROM " + source + " WHERE " + cond + ")"
}

// PrimaryKey renders PRIMARY KEY (a, b) NOT ENFORCED: BigQuery only accepts
// unenforced keys, so code must tolerate duplicate rows of a concurrent
// insert (the sync lease does).
func (Dialect) PrimaryKey(quotedCols []string) string {
	return "PRIMARY KEY (" + strings.Join(quotedCols, ", ") + ") NOT ENFORCED"
}

// LiteralRows renders literal rows as a subquery of SELECTs joined by UNION
// ALL, the first naming the columns: BigQuery has no VALUES table
// constructor.
func (d Dialect) LiteralRows(alias string, cols []string, rows [][]string) string {
	var b strings.Builder
	b.WriteString("(")
	for i, r := range rows {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		b.WriteString("SELECT ")
		for j, v := range r {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(v)
			if i == 0 {
				b.WriteString(" AS " + d.QuoteIdent(cols[j]))
			}
		}
	}
	b.WriteString(") AS " + d.QuoteIdent(alias))
	return b.String()
}

// Trim renders TRIM(expr, ' '): BigQuery's one-argument TRIM removes every
// whitespace character (tabs, newlines), the other dialects only spaces.
func (Dialect) Trim(expr string) string { return "TRIM(" + expr + ", ' ')" }

// TrimSpace renders TRIM(expr, chars) with the characters of
// warehouse.SpaceChars (BigQuery trims by code point).
func (d Dialect) TrimSpace(expr string) string {
	return "TRIM(" + expr + ", " + d.QuoteString(warehouse.SpaceChars) + ")"
}

// Lower renders LOWER(TRANSLATE(expr, 'İΣ', 'iσ')): BigQuery lowers by the
// Unicode Character Database without language rules; the translate keeps
// the two characters whose full mapping differs on the simple mapping (see
// warehouse.LowerFrom).
func (d Dialect) Lower(expr string) string {
	return "LOWER(TRANSLATE(" + expr + ", " + d.QuoteString(warehouse.LowerFrom) + ", " +
		d.QuoteString(warehouse.LowerTo) + "))"
}

// RegexpMatchExpr renders REGEXP_CONTAINS(expr, pattern) with a pattern expression.
func (Dialect) RegexpMatchExpr(expr, patternExpr string) string {
	return "REGEXP_CONTAINS(" + expr + ", " + patternExpr + ")"
}

// RegexpReplaceExpr renders REGEXP_REPLACE(expr, pattern, repl), which
// replaces every match (one, for an anchored pattern).
func (Dialect) RegexpReplaceExpr(expr, patternExpr, replExpr string) string {
	return "REGEXP_REPLACE(" + expr + ", " + patternExpr + ", " + replExpr + ")"
}

// Script joins statements into a multi-statement query: one job instead of
// one per statement.
func (Dialect) Script(stmts []string) string { return strings.Join(stmts, ";\n") }
