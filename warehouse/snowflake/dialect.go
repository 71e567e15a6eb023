package snowflake

import (
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// Type is the target type this package registers.
const Type = "snowflake"

// Dialect renders SQL for Snowflake. The zero value is ready to use.
type Dialect struct{}

var (
	_ warehouse.Dialect       = Dialect{}
	_ warehouse.ScratchTables = Dialect{}
)

// Name returns "snowflake".
func (Dialect) Name() string { return Type }

// QuoteIdent double-quotes name, doubling embedded double quotes. A name
// that is a plain lower-case identifier (letters, digits, _ and $, not
// starting with a digit or $) is written in upper case, the form Snowflake
// gives the same name unquoted: "CUSTOMER_PROFILES"."PROFILE_ID" is what a
// human reaches by typing customer_profiles.profile_id. Other names (mixed
// case, spaces, punctuation) keep their exact spelling. Result columns come
// back in lower case (see Rows), so shared code sees the name it wrote.
func (Dialect) QuoteIdent(name string) string { return quoteExact(FoldName(name)) }

// FoldName returns the name Snowflake stores for QuoteIdent(name): the
// upper-case form of a plain lower-case identifier, else name unchanged.
func FoldName(name string) string {
	if isPlain(name, 'a', 'z') {
		return strings.ToUpper(name)
	}
	return name
}

// StoredName is FoldName as a method: the name information_schema shows
// for QuoteIdent(name) (used by warehousetest).
func (Dialect) StoredName(name string) string { return FoldName(name) }

// UnfoldName is the inverse of FoldName for result column names: a plain
// upper-case identifier comes back in lower case, anything else unchanged.
func UnfoldName(name string) string {
	if isPlain(name, 'A', 'Z') {
		return strings.ToLower(name)
	}
	return name
}

// isPlain reports whether name is an identifier Snowflake accepts unquoted
// whose letters all lie in lo…hi: [letter_][letter digit _ $]*.
func isPlain(name string, lo, hi byte) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case lo <= c && c <= hi, c == '_':
		case i > 0 && ('0' <= c && c <= '9' || c == '$'):
		default:
			return false
		}
	}
	return true
}

// quoteExact double-quotes name as it is.
func quoteExact(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// QuoteString renders s as a single-quoted literal. Snowflake reads
// backslash escapes inside single quotes, so backslashes are doubled; single
// quotes are doubled; a NUL byte is written \x00.
func (Dialect) QuoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'':
			b.WriteString("''")
		case '\\':
			b.WriteString(`\\`)
		case 0:
			b.WriteString(`\x00`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// Table returns "SCHEMA"."TABLE" (folded as QuoteIdent does), or just the
// table when schema is empty.
func (d Dialect) Table(schema, table string) string {
	if schema == "" {
		return d.QuoteIdent(table)
	}
	return d.QuoteIdent(schema) + "." + d.QuoteIdent(table)
}

// Relation renders a user-written relation the way Snowflake resolves it:
// unquoted parts are upper-cased (raw.crm_contacts is "RAW"."CRM_CONTACTS"),
// parts written in double quotes keep their exact case ("raw"."t" stays).
func (Dialect) Relation(name string) string {
	parts, _ := warehouse.SplitDottedName(name, strings.ToUpper)
	for i, p := range parts {
		parts[i] = quoteExact(p)
	}
	return strings.Join(parts, ".")
}

// TypeName maps a CDP type to a Snowflake column type; unknown types map to
// VARCHAR. Timestamps are TIMESTAMP_NTZ whatever TIMESTAMP_TYPE_MAPPING says.
func (Dialect) TypeName(cdpType string) string {
	switch cdpType {
	case models.TypeInteger:
		return "BIGINT"
	case models.TypeNumber:
		return "DOUBLE"
	case models.TypeBoolean:
		return "BOOLEAN"
	case models.TypeTimestamp:
		return "TIMESTAMP_NTZ"
	case models.TypeDate:
		return "DATE"
	case models.TypeJSON:
		return "VARIANT"
	}
	return "VARCHAR"
}

// CastText casts expr to VARCHAR.
func (Dialect) CastText(expr string) string { return "CAST(" + expr + " AS VARCHAR)" }

// Cast casts expr to the column type of a CDP type; JSON text becomes a
// VARIANT through PARSE_JSON (a cast would store one JSON string).
func (d Dialect) Cast(expr, cdpType string) string {
	if cdpType == models.TypeJSON {
		return "PARSE_JSON(" + expr + ")"
	}
	return "CAST(" + expr + " AS " + d.TypeName(cdpType) + ")"
}

// TimestampLiteral renders t in UTC with microseconds:
// CAST('2024-05-01 13:04:05.000000' AS TIMESTAMP_NTZ).
func (Dialect) TimestampLiteral(t time.Time) string {
	return "CAST('" + t.UTC().Format("2006-01-02 15:04:05.000000") + "' AS TIMESTAMP_NTZ)"
}

// SubtractHours renders DATEADD(hour, -N, ts).
func (Dialect) SubtractHours(tsExpr string, hours int) string {
	return "DATEADD(hour, " + strconv.Itoa(-hours) + ", " + tsExpr + ")"
}

// RegexpMatch renders (REGEXP_INSTR(expr, 'pattern') > 0): an unanchored
// search (REGEXP_LIKE and RLIKE match the whole string).
func (d Dialect) RegexpMatch(expr, pattern string) string {
	return "(REGEXP_INSTR(" + expr + ", " + d.QuoteString(pattern) + ") > 0)"
}

// RegexpReplaceAll renders REGEXP_REPLACE(expr, 'pattern', 'repl'), which
// replaces every occurrence; \1…\9 in repl refer to groups.
func (d Dialect) RegexpReplaceAll(expr, pattern, repl string) string {
	return "REGEXP_REPLACE(" + expr + ", " + d.QuoteString(pattern) + ", " + d.QuoteString(repl) + ")"
}

// MD5Hex renders MD5(expr), lowercase hex.
func (Dialect) MD5Hex(expr string) string { return "MD5(" + expr + ")" }

// SHA256Hex renders SHA2(expr, 256): the lowercase hex SHA-256 of the
// VARCHAR's UTF-8 bytes.
func (Dialect) SHA256Hex(expr string) string { return "SHA2(" + expr + ", 256)" }

// HashFraction reads the first 8 hex digits of MD5(expr) with the hex format
// model (an exact integer 0…2^32-1) and divides it by 2^32 in DOUBLE. The
// quotient is exact, so every dialect returns the same float64.
func (Dialect) HashFraction(expr string) string {
	return "(CAST(TO_NUMBER(SUBSTR(MD5(" + expr + "), 1, 8), 'xxxxxxxx') AS DOUBLE) / CAST(4294967296 AS DOUBLE))"
}

// ByteOrder pins the 'utf8' collation, which compares UTF-8 bytes, so a
// column's or account's default collation cannot change the order.
func (Dialect) ByteOrder(expr string) string { return "COLLATE(" + expr + ", 'utf8')" }

// Contains renders CONTAINS(expr, 'literal'): a plain substring test.
func (d Dialect) Contains(expr, literal string) string {
	return "CONTAINS(" + expr + ", " + d.QuoteString(literal) + ")"
}

// StartsWith renders STARTSWITH(expr, 'literal').
func (d Dialect) StartsWith(expr, literal string) string {
	return "STARTSWITH(" + expr + ", " + d.QuoteString(literal) + ")"
}

// EndsWith renders ENDSWITH(expr, 'literal').
func (d Dialect) EndsWith(expr, literal string) string {
	return "ENDSWITH(" + expr + ", " + d.QuoteString(literal) + ")"
}

// CreateSchema renders CREATE SCHEMA IF NOT EXISTS (in the connection's database).
func (d Dialect) CreateSchema(schema string) string {
	return "CREATE SCHEMA IF NOT EXISTS " + d.QuoteIdent(schema)
}

// CreateTableAs renders CREATE OR REPLACE TABLE table COPY GRANTS AS query:
// one atomic statement, so readers see the old or the new table, never
// none, and roles that were granted SELECT on the old table keep it.
func (Dialect) CreateTableAs(table, query string) []string {
	return []string{"CREATE OR REPLACE TABLE " + table + " COPY GRANTS AS " + query}
}

// CreateScratchTableAs renders CREATE OR REPLACE TRANSIENT TABLE table AS
// query: intermediates the CDP rebuilds every run skip Fail-safe storage.
func (Dialect) CreateScratchTableAs(table, query string) []string {
	return []string{"CREATE OR REPLACE TRANSIENT TABLE " + table + " AS " + query}
}

// CreateView renders CREATE OR REPLACE VIEW view COPY GRANTS AS query,
// keeping the grants of the replaced view.
func (Dialect) CreateView(view, query string) []string {
	return []string{"CREATE OR REPLACE VIEW " + view + " COPY GRANTS AS " + query}
}

// DropTable renders DROP TABLE IF EXISTS.
func (Dialect) DropTable(table string) string { return "DROP TABLE IF EXISTS " + table }

// UpdateFrom renders UPDATE target SET column = value FROM source WHERE cond.
func (Dialect) UpdateFrom(target, column, value, source, cond string) string {
	return "UPDATE " + target + " SET " + column + " = " + value + " FROM " + source + " WHERE " + cond
}

// PrimaryKey renders PRIMARY KEY (a, b). Snowflake records the constraint
// but does not enforce it, so code must tolerate duplicate rows of a
// concurrent insert (the sync lease does).
func (Dialect) PrimaryKey(quotedCols []string) string {
	return "PRIMARY KEY (" + strings.Join(quotedCols, ", ") + ")"
}

// Trim renders TRIM(expr), which removes spaces only.
func (Dialect) Trim(expr string) string { return "TRIM(" + expr + ")" }

// TrimSpace renders TRIM(expr, chars) with the characters of
// warehouse.SpaceChars.
func (d Dialect) TrimSpace(expr string) string {
	return "TRIM(" + expr + ", " + d.QuoteString(warehouse.SpaceChars) + ")"
}

// Lower renders LOWER(TRANSLATE(expr, 'İΣ', 'iσ')): Snowflake's LOWER is
// Unicode-aware and locale-independent; the translate keeps the two
// characters whose full mapping differs on the simple mapping (see
// warehouse.LowerFrom). Not tested against a live account.
func (d Dialect) Lower(expr string) string {
	return "LOWER(TRANSLATE(" + expr + ", " + d.QuoteString(warehouse.LowerFrom) + ", " +
		d.QuoteString(warehouse.LowerTo) + "))"
}

// RegexpMatchExpr renders (REGEXP_INSTR(expr, pattern) > 0) with a pattern expression.
func (Dialect) RegexpMatchExpr(expr, patternExpr string) string {
	return "(REGEXP_INSTR(" + expr + ", " + patternExpr + ") > 0)"
}

// RegexpReplaceExpr renders REGEXP_REPLACE(expr, pattern, repl, 1, 1): the
// first match.
func (Dialect) RegexpReplaceExpr(expr, patternExpr, replExpr string) string {
	return "REGEXP_REPLACE(" + expr + ", " + patternExpr + ", " + replExpr + ", 1, 1)"
}
