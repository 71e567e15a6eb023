package postgres

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// Type is the target type this package registers.
const Type = "postgres"

// MaxIdentifierBytes is the longest identifier PostgreSQL keeps (NAMEDATALEN-1);
// longer names are truncated by the server.
const MaxIdentifierBytes = 63

// Dialect renders SQL for PostgreSQL. The zero value is ready to use.
type Dialect struct{}

var _ warehouse.Dialect = Dialect{}

// Name returns "postgres".
func (Dialect) Name() string { return Type }

// QuoteIdent wraps name in double quotes, doubling embedded double quotes.
func (Dialect) QuoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// QuoteString renders s as a string literal: 'it”s'. A string with a
// backslash becomes an escape literal (E'a\\b'), which reads the same whether
// standard_conforming_strings is on or off. NUL bytes, which PostgreSQL text
// cannot hold, render as chr(0) joined with || so the server rejects the
// statement with "null character not permitted".
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
	q := strings.ReplaceAll(s, "'", "''")
	if strings.Contains(q, `\`) {
		return `E'` + strings.ReplaceAll(q, `\`, `\\`) + "'"
	}
	return "'" + q + "'"
}

// Table returns "schema"."table", or just "table" when schema is empty.
func (d Dialect) Table(schema, table string) string {
	if schema == "" {
		return d.QuoteIdent(table)
	}
	return d.QuoteIdent(schema) + "." + d.QuoteIdent(table)
}

// Relation quotes each dot-separated part of a user-written relation:
// raw.crm_contacts becomes "raw"."crm_contacts". Parts keep their case; parts
// the user already wrote in double quotes ("my.schema".t) stay one part.
func (d Dialect) Relation(name string) string {
	parts, _ := warehouse.SplitDottedName(name, nil)
	for i, p := range parts {
		parts[i] = d.QuoteIdent(p)
	}
	return strings.Join(parts, ".")
}

// foldASCII lower-cases A-Z only, as the server folds unquoted names.
func foldASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// TypeName maps a CDP type to a PostgreSQL column type; unknown types map to TEXT.
func (Dialect) TypeName(cdpType string) string {
	switch cdpType {
	case models.TypeInteger:
		return "BIGINT"
	case models.TypeNumber:
		return "DOUBLE PRECISION"
	case models.TypeBoolean:
		return "BOOLEAN"
	case models.TypeTimestamp:
		return "TIMESTAMP"
	case models.TypeDate:
		return "DATE"
	case models.TypeJSON:
		return "JSON" // not JSONB: the text is kept as written
	}
	return "TEXT"
}

// CastText casts expr to TEXT.
func (Dialect) CastText(expr string) string { return "CAST(" + expr + " AS TEXT)" }

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

// RegexpMatch renders (expr ~ 'pattern').
func (d Dialect) RegexpMatch(expr, pattern string) string {
	return "(" + expr + " ~ " + d.QuoteString(pattern) + ")"
}

// RegexpReplaceAll renders regexp_replace(expr, 'pattern', 'repl', 'g'). In
// repl, \1…\9 refer to groups and \\ is a literal backslash.
func (d Dialect) RegexpReplaceAll(expr, pattern, repl string) string {
	return "regexp_replace(" + expr + ", " + d.QuoteString(pattern) + ", " + d.QuoteString(repl) + ", 'g')"
}

// MD5Hex renders md5(expr), lowercase hex.
func (Dialect) MD5Hex(expr string) string { return "md5(" + expr + ")" }

// SHA256Hex renders encode(sha256(convert_to(expr, 'UTF8')), 'hex'):
// sha256 takes bytea, convert_to gives the text's UTF-8 bytes whatever the
// client encoding, and encode writes lowercase hex.
func (Dialect) SHA256Hex(expr string) string {
	return "encode(sha256(convert_to(" + expr + ", 'UTF8')), 'hex')"
}

// HashFraction reads the first 8 hex digits of md5(expr) through bit(32),
// whose cast to bigint is unsigned (0…2^32-1), and divides by 2^32 in double
// precision. The quotient is exact, so every dialect returns the same float64.
func (Dialect) HashFraction(expr string) string {
	return "(CAST(CAST(('x' || substr(md5(" + expr + "), 1, 8)) AS bit(32)) AS bigint) / CAST(4294967296 AS double precision))"
}

// ByteOrder applies the "C" collation, which compares bytes.
func (Dialect) ByteOrder(expr string) string { return "(" + expr + ` COLLATE "C")` }

// Contains renders (strpos(expr, 'literal') > 0): a plain substring test with
// no pattern characters.
func (d Dialect) Contains(expr, literal string) string {
	return "(strpos(" + expr + ", " + d.QuoteString(literal) + ") > 0)"
}

// StartsWith renders starts_with(expr, 'literal').
func (d Dialect) StartsWith(expr, literal string) string {
	return "starts_with(" + expr + ", " + d.QuoteString(literal) + ")"
}

// EndsWith compares the last characters of expr with the literal:
// (right(expr, n) = 'literal') where n is the literal's length in characters.
func (d Dialect) EndsWith(expr, literal string) string {
	n := utf8.RuneCountInString(literal)
	return "(right(" + expr + ", " + strconv.Itoa(n) + ") = " + d.QuoteString(literal) + ")"
}

// CreateSchema renders CREATE SCHEMA IF NOT EXISTS.
func (d Dialect) CreateSchema(schema string) string {
	return "CREATE SCHEMA IF NOT EXISTS " + d.QuoteIdent(schema)
}

// CreateTableAs drops table if it exists and creates it from query.
func (d Dialect) CreateTableAs(table, query string) []string {
	return []string{d.DropTable(table), "CREATE TABLE " + table + " AS " + query}
}

// CreateView drops the view if it exists and creates it, since CREATE OR
// REPLACE VIEW refuses to drop or retype columns.
func (Dialect) CreateView(view, query string) []string {
	return []string{"DROP VIEW IF EXISTS " + view, "CREATE VIEW " + view + " AS " + query}
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

// TrimSpace renders btrim(expr, chars) with the characters of
// warehouse.SpaceChars; btrim works by character in a UTF8 database whatever
// its LC_CTYPE.
func (d Dialect) TrimSpace(expr string) string {
	return "btrim(" + expr + ", " + d.QuoteString(warehouse.SpaceChars) + ")"
}

// Lower renders lower(translate(expr, 'İΣ', 'iσ') COLLATE "und-x-icu"):
// under the database's own collation lower() only maps ASCII in a C-locale
// database and follows the libc tables otherwise, so the ICU root collation
// (present in every PostgreSQL 10+ built with ICU, as the PGDG, Debian and
// Docker builds are) is named explicitly. ICU applies the full,
// context-sensitive mapping; the translate keeps 'İ' and 'Σ' on the simple
// mapping (see warehouse.LowerFrom).
func (d Dialect) Lower(expr string) string {
	return "lower(translate(" + expr + ", " + d.QuoteString(warehouse.LowerFrom) + ", " +
		d.QuoteString(warehouse.LowerTo) + ") COLLATE \"und-x-icu\")"
}

// RegexpMatchExpr renders (expr ~ pattern) with a pattern expression.
func (Dialect) RegexpMatchExpr(expr, patternExpr string) string {
	return "(" + expr + " ~ (" + patternExpr + "))"
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
