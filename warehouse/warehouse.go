package warehouse

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cdpkit/cdp/models"
)

// Dialect is everything shared code needs to know about a warehouse's SQL.
// Every identifier and literal in compiled SQL goes through these methods; no
// code outside warehouse/<dialect> may branch on the dialect's name.
type Dialect interface {
	// Name is the target type this dialect serves (duckdb, postgres, …).
	Name() string
	// QuoteIdent quotes one identifier (a column, table or schema name).
	QuoteIdent(name string) string
	// QuoteString quotes a string literal.
	QuoteString(s string) string
	// Table returns the qualified, quoted name of table in schema.
	Table(schema, table string) string
	// Relation renders a user-written relation such as raw.crm_contacts as the
	// target understands it (dotted parts quoted one by one).
	Relation(name string) string
	// TypeName maps a CDP type (models.Type*) to the warehouse's column type.
	TypeName(cdpType string) string
	// CastText casts expr to the warehouse's text type.
	CastText(expr string) string
	// Cast casts expr to a CDP type (models.Type*).
	Cast(expr, cdpType string) string
	// TimestampLiteral renders t (in UTC, without time zone) as a timestamp literal.
	TimestampLiteral(t time.Time) string
	// SubtractHours returns tsExpr minus a number of hours.
	SubtractHours(tsExpr string, hours int) string
	// RegexpMatch is a boolean expression: expr matches the RE2 pattern (unanchored).
	RegexpMatch(expr, pattern string) string
	// RegexpReplaceAll replaces every match of pattern in expr with repl.
	RegexpReplaceAll(expr, pattern, repl string) string
	// RegexpMatchExpr is RegexpMatch with the pattern given as an SQL text
	// expression (a column of a metadata table, say) instead of a constant.
	RegexpMatchExpr(expr, patternExpr string) string
	// RegexpReplaceExpr replaces the first match of the pattern expression
	// in expr with the replacement expression (\1…\9 refer to groups). Use
	// it with anchored patterns: BigQuery replaces every match.
	RegexpReplaceExpr(expr, patternExpr, replExpr string) string
	// MD5Hex is the lowercase hexadecimal MD5 digest of a text expression.
	MD5Hex(expr string) string
	// SHA256Hex is the lowercase hexadecimal SHA-256 digest of the UTF-8
	// bytes of a text expression (64 characters; NULL stays NULL).
	SHA256Hex(expr string) string
	// HashFraction maps a text expression to a number in [0,1) from the first
	// 8 hex digits of its MD5 (identical on every dialect).
	HashFraction(expr string) string
	// ByteOrder wraps a text expression so ORDER BY/MIN/MAX compare it byte by byte.
	ByteOrder(expr string) string
	// Contains, StartsWith and EndsWith are boolean substring tests against a literal.
	Contains(expr, literal string) string
	StartsWith(expr, literal string) string
	EndsWith(expr, literal string) string
	// CreateSchema creates schema if it does not exist.
	CreateSchema(schema string) string
	// CreateTableAs replaces table with the result of query.
	CreateTableAs(table, query string) []string
	// CreateView replaces view with query.
	CreateView(view, query string) []string
	// DropTable drops table if it exists.
	DropTable(table string) string
	// Trim removes leading and trailing spaces (U+0020 only, not tabs or
	// newlines) from a text expression.
	Trim(expr string) string
	// TrimSpace removes every character of SpaceChars (all Unicode
	// whitespace and zero-width characters) from both ends of a text
	// expression, whatever the server's locale.
	TrimSpace(expr string) string
	// Lower lower-cases a text expression with the simple Unicode case
	// mapping of every character (Go's strings.ToLower: 'İ' gives 'i', 'Σ'
	// gives 'σ', 'ß' stays), identically whatever the server's locale or
	// collation.
	Lower(expr string) string
	// PrimaryKey is the table constraint declaring quoted columns the primary
	// key in CREATE TABLE (informational where the warehouse does not
	// enforce it).
	PrimaryKey(quotedCols []string) string
	// UpdateFrom sets column of the target rows ("table AS t") that match a
	// row of source ("table AS s" or "(query) AS s") under cond, to value
	// computed from that row; cond matches at most one source row per
	// target row.
	UpdateFrom(target, column, value, source, cond string) string
}

// Rows is a forward-only result set; *sql.Rows satisfies it.
type Rows interface {
	Columns() ([]string, error)
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// Warehouse is an open connection to a target.
type Warehouse interface {
	// Dialect returns the SQL dialect of the connection.
	Dialect() Dialect
	// Exec runs one statement and returns the affected row count when known (else -1).
	Exec(ctx context.Context, stmt string) (int64, error)
	// Query runs one statement returning rows.
	Query(ctx context.Context, stmt string) (Rows, error)
	// Close releases the connection.
	Close() error
}

// Column is a typed column for bulk loads.
type Column struct {
	Name string
	Type string // CDP type (models.Type*)
}

// BulkLoader is an optional ability: load rows fast into a new table.
// Values are nil or already converted to the Go type of the column's CDP type
// (string, int64, float64, bool, time.Time).
type BulkLoader interface {
	// LoadRows (re)creates table with cols and loads every row from next
	// (which returns io.EOF at the end) in one transaction.
	LoadRows(ctx context.Context, table string, cols []Column, next func() ([]any, error)) (int64, error)
}

// Opener opens a connection for a target of a registered type.
type Opener func(ctx context.Context, t *models.Target, projectRoot string) (Warehouse, error)

type registration struct {
	dialect Dialect
	open    Opener
}

var (
	mu       sync.RWMutex
	registry = map[string]registration{}
)

// Register makes a warehouse type available; dialect packages call it from init().
func Register(typeName string, d Dialect, open Opener) {
	mu.Lock()
	defer mu.Unlock()
	registry[typeName] = registration{dialect: d, open: open}
}

// DialectFor returns the dialect of a target type without connecting.
func DialectFor(typeName string) (Dialect, error) {
	mu.RLock()
	defer mu.RUnlock()
	r, ok := registry[typeName]
	if !ok {
		return nil, fmt.Errorf("unknown target type %q (known: %v)", typeName, Types())
	}
	return r.dialect, nil
}

// Open connects to a target.
func Open(ctx context.Context, t *models.Target, projectRoot string) (Warehouse, error) {
	mu.RLock()
	r, ok := registry[t.Type]
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("target %s: unknown type %q (known: %v)", t.Name, t.Type, Types())
	}
	if r.open == nil {
		return nil, fmt.Errorf("target %s: type %q can compile SQL but has no connector yet", t.Name, t.Type)
	}
	return r.open(ctx, t, projectRoot)
}

// Types lists the registered target types.
func Types() []string {
	var out []string
	for k := range registry {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ExecFunc runs one statement and returns the affected row count when known.
type ExecFunc func(ctx context.Context, stmt string) (int64, error)

// Transactor is an optional ability: run several statements atomically.
// fn's statements commit together when fn returns nil, and roll back otherwise.
type Transactor interface {
	InTx(ctx context.Context, fn func(exec ExecFunc) error) error
}

// InTx runs fn in a transaction when w is a Transactor, else statement by
// statement (each one atomic on its own).
func InTx(ctx context.Context, w Warehouse, fn func(exec ExecFunc) error) error {
	if t, ok := w.(Transactor); ok {
		return t.InTx(ctx, fn)
	}
	return fn(w.Exec)
}

// ScratchTables is an optional Dialect ability: create a table holding an
// intermediate result that the CDP rebuilds on every run (identity work
// tables, segment members, sync diffs), where the warehouse has a cheaper kind
// of table for that (Snowflake's TRANSIENT tables skip Fail-safe storage).
type ScratchTables interface {
	// CreateScratchTableAs replaces table with the result of query.
	CreateScratchTableAs(table, query string) []string
}

// CreateScratchTableAs replaces an intermediate table with the result of
// query: d's CreateScratchTableAs when it has one, else CreateTableAs.
func CreateScratchTableAs(d Dialect, table, query string) []string {
	if s, ok := d.(ScratchTables); ok {
		return s.CreateScratchTableAs(table, query)
	}
	return d.CreateTableAs(table, query)
}

// Scripter is an optional Dialect ability: run several statements as one
// request (a BigQuery multi-statement query), where each request costs more
// than the statements' work.
type Scripter interface {
	// Script joins statements into one that runs them in order.
	Script(stmts []string) string
}

// Script joins stmts into one statement where d is a Scripter; otherwise
// it returns them as they are.
func Script(d Dialect, stmts []string) []string {
	if s, ok := d.(Scripter); ok && len(stmts) > 1 {
		return []string{s.Script(stmts)}
	}
	return stmts
}

// LiteralRower is an optional Dialect ability: render literal rows as a
// relation, for warehouses without a VALUES table constructor (BigQuery).
type LiteralRower interface {
	// LiteralRows renders rows (each a list of SQL values, in cols' order)
	// as a relation named alias with columns cols.
	LiteralRows(alias string, cols []string, rows [][]string) string
}

// LiteralRows renders rows of SQL values as a relation named alias with
// columns cols (quoted by the dialect): (VALUES (…), (…)) AS alias (cols), or
// the dialect's own form when it is a LiteralRower.
func LiteralRows(d Dialect, alias string, cols []string, rows [][]string) string {
	if lr, ok := d.(LiteralRower); ok {
		return lr.LiteralRows(alias, cols, rows)
	}
	var b strings.Builder
	b.WriteString("(VALUES ")
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + strings.Join(r, ", ") + ")")
	}
	b.WriteString(") AS " + d.QuoteIdent(alias) + " (")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.QuoteIdent(c))
	}
	b.WriteString(")")
	return b.String()
}
