package duckdb

import (
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// Type is the target type this package registers.
const Type = "duckdb"

// Dialect renders SQL for DuckDB. The zero value is ready to use.
type Dialect struct{}

var _ warehouse.Dialect = Dialect{}

// Name returns "duckdb".
func (Dialect) Name() string { return Type }

// QuoteIdent wraps name in double quotes, doubling embedded double quotes.
// DuckDB matches identifiers case-insensitively even when quoted.
func (Dialect) QuoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// QuoteString wraps s in single quotes, doubling embedded single quotes.
// Backslashes need no escaping. A NUL byte cannot appear in query text (the
// engine reads it as a C string), so a string holding NUL bytes renders as a
// parenthesized concatenation: ('a' || chr(0) || 'b').
func (Dialect) QuoteString(s string) string {
	if !strings.Contains(s, "\x00") {
		return quoteNoNUL(s)
	}
	parts := strings.Split(s, "\x00")
	var b strings.Builder
	b.WriteByte('(')
	for i, p := range parts {
		if i > 0 {
			b.WriteString(" || chr(0) || ")
		}
		b.WriteString(quoteNoNUL(p))
	}
	b.WriteByte(')')
	return b.String()
}

func quoteNoNUL(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// Table returns "schema"."table", or just "table" when schema is empty.
func (d Dialect) Table(schema, table string) string {
	if schema == "" {
		return d.QuoteIdent(table)
	}
	return d.QuoteIdent(schema) + "." + d.QuoteIdent(table)
}

// Relation quotes each dot-separated part of a user-written relation:
// raw.crm_contacts becomes "raw"."crm_contacts". Parts the user already wrote
// in double quotes ("my.schema".t) are kept as one part.
func (d Dialect) Relation(name string) string {
	parts, _ := warehouse.SplitDottedName(name, nil)
	for i, p := range parts {
		parts[i] = d.QuoteIdent(p)
	}
	return strings.Join(parts, ".")
}

// TypeName maps a CDP type to a DuckDB column type; unknown types map to VARCHAR.
func (Dialect) TypeName(cdpType string) string {
	switch cdpType {
	case models.TypeInteger:
		return "BIGINT"
	case models.TypeNumber:
		return "DOUBLE"
	case models.TypeBoolean:
		return "BOOLEAN"
	case models.TypeTimestamp:
		return "TIMESTAMP"
	case models.TypeDate:
		return "DATE"
	case models.TypeJSON:
		return "JSON"
	}
	return "VARCHAR"
}

// CastText casts expr to VARCHAR.
func (Dialect) CastText(expr string) string { return "CAST(" + expr + " AS VARCHAR)" }

// Cast casts expr to the column type of a CDP type.
func (d Dialect) Cast(expr, cdpType string) string {
	return "CAST(" + expr + " AS " + d.TypeName(cdpType) + ")"
}

// TimestampLiteral renders t in UTC with microseconds:
// TIMESTAMP '2024-05-01 13:04:05.000000'.
func (Dialect) TimestampLiteral(t time.Time) string {
	return "TIMESTAMP '" + t.UTC().Format("2006-01-02 15:04:05.000000") + "'"
}

// SubtractHours renders (ts - INTERVAL 'N hours').
func (Dialect) SubtractHours(tsExpr string, hours int) string {
	return "(" + tsExpr + " - INTERVAL '" + strconv.Itoa(hours) + " hours')"
}

// RegexpMatch renders regexp_matches(expr, 'pattern'); DuckDB uses RE2.
func (d Dialect) RegexpMatch(expr, pattern string) string {
	return "regexp_matches(" + expr + ", " + d.QuoteString(pattern) + ")"
}

// RegexpReplaceAll renders regexp_replace(expr, 'pattern', 'repl', 'g'). In
// repl, \1…\9 refer to groups and \\ is a literal backslash.
func (d Dialect) RegexpReplaceAll(expr, pattern, repl string) string {
	return "regexp_replace(" + expr + ", " + d.QuoteString(pattern) + ", " + d.QuoteString(repl) + ", 'g')"
}

// MD5Hex renders md5(expr), lowercase hex.
func (Dialect) MD5Hex(expr string) string { return "md5(" + expr + ")" }

// SHA256Hex renders sha256(expr): DuckDB hashes the VARCHAR's UTF-8 bytes
// and returns lowercase hex.
func (Dialect) SHA256Hex(expr string) string { return "sha256(" + expr + ")" }

// HashFraction reads the first 8 hex digits of md5(expr) as an unsigned
// 32-bit integer and divides it by 2^32 in DOUBLE. The quotient is exact, so
// every dialect returns the same float64.
func (Dialect) HashFraction(expr string) string {
	return "(CAST(('0x' || substr(md5(" + expr + "), 1, 8)) AS BIGINT) / CAST(4294967296 AS DOUBLE))"
}

// ByteOrder pins the binary collation, which compares UTF-8 bytes, so the
// default_collation setting cannot change the order.
func (Dialect) ByteOrder(expr string) string { return "(" + expr + ` COLLATE "binary")` }

// Contains renders contains(expr, 'literal'): a plain substring test with no
// pattern characters.
func (d Dialect) Contains(expr, literal string) string {
	return "contains(" + expr + ", " + d.QuoteString(literal) + ")"
}

// StartsWith renders starts_with(expr, 'literal').
func (d Dialect) StartsWith(expr, literal string) string {
	return "starts_with(" + expr + ", " + d.QuoteString(literal) + ")"
}

// EndsWith renders suffix(expr, 'literal').
func (d Dialect) EndsWith(expr, literal string) string {
	return "suffix(" + expr + ", " + d.QuoteString(literal) + ")"
}

// CreateSchema renders CREATE SCHEMA IF NOT EXISTS.
func (d Dialect) CreateSchema(schema string) string {
	return "CREATE SCHEMA IF NOT EXISTS " + d.QuoteIdent(schema)
}

// CreateTableAs renders CREATE OR REPLACE TABLE table AS query.
func (Dialect) CreateTableAs(table, query string) []string {
	return []string{"CREATE OR REPLACE TABLE " + table + " AS " + query}
}

// CreateView renders CREATE OR REPLACE VIEW view AS query; DuckDB allows the
// columns to change.
func (Dialect) CreateView(view, query string) []string {
	return []string{"CREATE OR REPLACE VIEW " + view + " AS " + query}
}

// DropTable renders DROP TABLE IF EXISTS.
func (Dialect) DropTable(table string) string { return "DROP TABLE IF EXISTS " + table }

// UpdateFrom renders UPDATE target SET column = value FROM source WHERE cond.
func (Dialect) UpdateFrom(target, column, value, source, cond string) string {
	return "UPDATE " + target + " SET " + column + " = " + value + " FROM " + source + " WHERE " + cond
}

// PrimaryKey renders PRIMARY KEY (a, b).
func (Dialect) PrimaryKey(quotedCols []string) string {
	return "PRIMARY KEY (" + strings.Join(quotedCols, ", ") + ")"
}

// Trim renders TRIM(expr), which removes spaces only.
func (Dialect) Trim(expr string) string { return "TRIM(" + expr + ")" }

// TrimSpace renders trim(expr, chars) with the characters of
// warehouse.SpaceChars (DuckDB trims by code point).
func (d Dialect) TrimSpace(expr string) string {
	return "trim(" + expr + ", " + d.QuoteString(warehouse.SpaceChars) + ")"
}

// Lower renders lower(expr): DuckDB maps each code point with the simple
// Unicode mapping, independent of any locale.
func (Dialect) Lower(expr string) string { return "lower(" + expr + ")" }

// RegexpMatchExpr renders regexp_matches(expr, pattern) with a pattern
// expression (DuckDB compiles it per row).
func (Dialect) RegexpMatchExpr(expr, patternExpr string) string {
	return "regexp_matches(" + expr + ", " + patternExpr + ")"
}

// RegexpReplaceExpr renders regexp_replace(expr, pattern, repl): the first match.
func (Dialect) RegexpReplaceExpr(expr, patternExpr, replExpr string) string {
	return "regexp_replace(" + expr + ", " + patternExpr + ", " + replExpr + ")"
}

// MaterializedCTE is the keyword that makes a WITH query computed once
// ("MATERIALIZED "): long pipelines of CTEs that refer to earlier columns
// several times would otherwise be inlined into exponentially large
// expressions.
func (Dialect) MaterializedCTE() string { return "MATERIALIZED " }
