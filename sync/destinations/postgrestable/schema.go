package postgrestable

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/warehouse/postgres"
)

var dialect postgres.Dialect

// tableName is a parsed table setting.
type tableName struct {
	schema, table string // unquoted; schema may be empty
}

// quoted returns the qualified, quoted name.
func (t tableName) quoted() string { return dialect.Table(t.schema, t.table) }

// parseTable splits "table" or "schema.table" on dots outside double
// quotes. A part that starts with a double quote ends at the matching quote
// ("" inside stands for one quote); other parts are taken as written.
func parseTable(s string) (tableName, error) {
	if s == "" {
		return tableName{}, errors.New("required")
	}
	var parts []string
	for i := 0; ; {
		var part string
		if i < len(s) && s[i] == '"' {
			var b strings.Builder
			j := i + 1
			for ; j < len(s); j++ {
				if s[j] == '"' {
					if j+1 < len(s) && s[j+1] == '"' {
						b.WriteByte('"')
						j++
						continue
					}
					break
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return tableName{}, fmt.Errorf("%q: unterminated quoted name", s)
			}
			part, i = b.String(), j+1
			if i < len(s) && s[i] != '.' {
				return tableName{}, fmt.Errorf("%q: a quoted name must be followed by a dot or the end", s)
			}
		} else {
			j := strings.IndexByte(s[i:], '.')
			if j < 0 {
				j = len(s) - i
			}
			part, i = s[i:i+j], i+j
		}
		if err := checkIdent(part); err != nil {
			return tableName{}, fmt.Errorf("%q: %v", s, err)
		}
		parts = append(parts, part)
		if i >= len(s) {
			break
		}
		i++ // the dot
		if i == len(s) {
			return tableName{}, fmt.Errorf("%q ends with a dot", s)
		}
	}
	switch len(parts) {
	case 1:
		return tableName{table: parts[0]}, nil
	case 2:
		return tableName{schema: parts[0], table: parts[1]}, nil
	}
	return tableName{}, fmt.Errorf("%q: want table or schema.table (quote parts that hold dots)", s)
}

// checkIdent reports a name PostgreSQL cannot keep as written.
func checkIdent(s string) error {
	switch {
	case s == "":
		return errors.New("empty name")
	case len(s) > postgres.MaxIdentifierBytes:
		return fmt.Errorf("name longer than %d bytes, which PostgreSQL would truncate", postgres.MaxIdentifierBytes)
	case strings.ContainsRune(s, 0):
		return errors.New("name holds a NUL byte")
	case !utf8.ValidString(s):
		return errors.New("name is not valid UTF-8")
	}
	return nil
}

// kind is how values are converted for a column.
type kind int

const (
	kindText kind = iota
	kindInt
	kindFloat
	kindBool
	kindTime
	kindOther // passed through as they are
)

// column is one column of the table.
type column struct {
	typ  string // as format_type prints it
	kind kind
	min  int64 // integer bounds
	max  int64
}

// columnOf maps a type name from format_type to a column.
func columnOf(typ string) column {
	c := column{typ: typ, kind: kindOther}
	switch {
	case typ == "text", strings.HasPrefix(typ, "character"), typ == "name", typ == "citext":
		c.kind = kindText
	case typ == "bigint":
		c.kind, c.min, c.max = kindInt, -1<<63, 1<<63-1
	case typ == "integer":
		c.kind, c.min, c.max = kindInt, -1<<31, 1<<31-1
	case typ == "smallint":
		c.kind, c.min, c.max = kindInt, -1<<15, 1<<15-1
	case typ == "double precision", typ == "real":
		c.kind = kindFloat
	case typ == "boolean":
		c.kind = kindBool
	case strings.HasPrefix(typ, "timestamp"), typ == "date":
		c.kind = kindTime
	}
	return c
}

// typeFor picks the type of a new column from a value.
func typeFor(v any) string {
	switch v.(type) {
	case int64, int, int32:
		return "bigint"
	case float64, float32:
		return "double precision"
	case bool:
		return "boolean"
	case time.Time:
		return "timestamptz"
	}
	return "text"
}

// wanted lists the columns a batch needs: the sync's fields, then the other
// field names the records carry, sorted. Names that cannot be columns are
// left out (their records are rejected).
func (d *Destination) wanted(batch []destination.Record) []string {
	cols := slices.Clone(d.fields)
	var extra []string
	for _, r := range batch {
		for f := range r.Fields {
			if !slices.Contains(cols, f) && !slices.Contains(extra, f) && d.fieldColumn(f) && d.checkField(f) == nil {
				extra = append(extra, f)
			}
		}
	}
	sort.Strings(extra)
	return append(cols, extra...)
}

// fieldColumn reports whether field f is stored in a column of its own
// (the key field named "key" is stored in the key column).
func (d *Destination) fieldColumn(f string) bool { return !(f == KeyColumn && f == d.keyField) }

// ensure creates the table and adds missing columns, then knows every
// column's type.
func (d *Destination) ensure(ctx context.Context, conn *pgx.Conn, batch []destination.Record) error {
	if d.columns == nil {
		cols, err := d.inspect(ctx, conn)
		if err != nil {
			return err
		}
		if cols == nil {
			if err := d.create(ctx, conn, batch); err != nil {
				return err
			}
			if cols, err = d.inspect(ctx, conn); err != nil {
				return err
			}
		}
		if _, ok := cols[KeyColumn]; !ok {
			return &destination.BatchError{Err: d.errorf("table %s exists without a %q column; drop it or choose another table", d.table.quoted(), KeyColumn)}
		}
		d.columns = cols
	}
	var missing []string
	for _, f := range append(d.wanted(batch), SyncedAtColumn) {
		if _, ok := d.columns[f]; !ok {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	adds := make([]string, len(missing))
	for i, f := range missing {
		adds[i] = "ADD COLUMN IF NOT EXISTS " + dialect.QuoteIdent(f) + " " + d.newType(f, batch)
	}
	if _, err := conn.Exec(ctx, "ALTER TABLE "+d.table.quoted()+" "+strings.Join(adds, ", ")); err != nil {
		return d.ddlError("adding columns", err)
	}
	cols, err := d.inspect(ctx, conn)
	if err != nil {
		return err
	}
	d.columns = cols
	return nil
}

// newType is the type of a new column for field f.
func (d *Destination) newType(f string, batch []destination.Record) string {
	if f == SyncedAtColumn {
		return "timestamptz"
	}
	for _, r := range batch {
		if v, ok := r.Fields[f]; ok && v != nil {
			return typeFor(v)
		}
	}
	return "text"
}

// create creates the schema and the table.
func (d *Destination) create(ctx context.Context, conn *pgx.Conn, batch []destination.Record) error {
	if d.table.schema != "" {
		if _, err := conn.Exec(ctx, dialect.CreateSchema(d.table.schema)); err != nil {
			return d.ddlError("creating the schema", err)
		}
	}
	defs := []string{dialect.QuoteIdent(KeyColumn) + " text PRIMARY KEY"}
	for _, f := range d.wanted(batch) {
		defs = append(defs, dialect.QuoteIdent(f)+" "+d.newType(f, batch))
	}
	defs = append(defs, dialect.QuoteIdent(SyncedAtColumn)+" timestamptz")
	stmt := "CREATE TABLE IF NOT EXISTS " + d.table.quoted() + " (\n  " + strings.Join(defs, ",\n  ") + "\n)"
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return d.ddlError("creating the table", err)
	}
	return nil
}

// ddlError classifies a failed schema change; a concurrent creation of the
// same object is retryable.
func (d *Destination) ddlError(what string, err error) error {
	be := d.batchError(what+" "+d.table.quoted(), err)
	if code := sqlState(err); code == "23505" || code == "42P07" || code == "42P06" {
		be.Retryable = true
	}
	return be
}

// inspect returns the table's columns, or nil when there is no such table.
func (d *Destination) inspect(ctx context.Context, conn *pgx.Conn) (map[string]column, error) {
	var oid *uint32
	if err := conn.QueryRow(ctx, "SELECT to_regclass($1)::oid", d.table.quoted()).Scan(&oid); err != nil {
		return nil, d.batchError("looking up "+d.table.quoted(), err)
	}
	if oid == nil {
		return nil, nil
	}
	rows, err := conn.Query(ctx, `SELECT attname, format_type(atttypid, NULL) FROM pg_attribute
WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped`, *oid)
	if err != nil {
		return nil, d.batchError("reading the columns of "+d.table.quoted(), err)
	}
	cols := map[string]column{}
	var name, typ string
	_, err = pgx.ForEachRow(rows, []any{&name, &typ}, func() error {
		cols[name] = columnOf(typ)
		return nil
	})
	if err != nil {
		return nil, d.batchError("reading the columns of "+d.table.quoted(), err)
	}
	return cols, nil
}
