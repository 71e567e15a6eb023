package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cdpkit/cdp/warehouse"
)

// RawSchema holds the generated source tables; the CDP writes to CDPSchema.
const (
	RawSchema = "raw"
	CDPSchema = "cdp"
)

// Target is where a generated project runs: a DuckDB file or a PostgreSQL DSN.
type Target struct {
	Engine string // duckdb | postgres
	Path   string // DuckDB database file
	DSN    string // PostgreSQL connection string
}

// yamlQuote renders s as a single-quoted YAML scalar.
func yamlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// WriteProject writes a cdp project (cdp.yml and models/) for the generated
// sources into dir. The target's DSN is read from CDP_POSTGRES_DSN.
func WriteProject(dir string, t Target) error {
	var cfg strings.Builder
	cfg.WriteString("name: bench\nentity: customer\nmodel_paths: [models]\ntarget: wh\ntargets:\n")
	if t.Engine == "duckdb" {
		fmt.Fprintf(&cfg, "  wh: { type: duckdb, path: %s, schema: %s }\n", yamlQuote(t.Path), CDPSchema)
	} else {
		fmt.Fprintf(&cfg, "  wh: { type: postgres, dsn: \"${CDP_POSTGRES_DSN}\", schema: %s }\n", CDPSchema)
	}
	var id strings.Builder
	id.WriteString("identity:\n  max_profile_identifiers: 2000\n  id_types:\n")
	for _, it := range IDTypes() {
		fmt.Fprintf(&id, "    - name: %s\n      normalize: %s\n", it.Name, it.Normalize)
		if it.DefaultCountry != "" {
			fmt.Fprintf(&id, "      default_country: %s\n", it.DefaultCountry)
		}
		if it.Limit > 0 {
			fmt.Fprintf(&id, "      limit: %d\n", it.Limit)
		}
		if len(it.Exclude) > 0 {
			id.WriteString("      exclude:\n")
			for _, p := range it.Exclude {
				fmt.Fprintf(&id, "        - %s\n", yamlQuote(p))
			}
		}
	}
	var src strings.Builder
	src.WriteString("sources:\n")
	for _, s := range Sources {
		fmt.Fprintf(&src, "  - name: %s\n    table: %s.%s\n    primary_key: %s\n    timestamp: %s\n",
			s.Name, RawSchema, s.Name, s.Cols[0].Name, s.Timestamp)
		if s.Event != "" {
			fmt.Fprintf(&src, "    event: %s\n", s.Event)
		}
		src.WriteString("    identifiers:\n")
		for _, i := range s.Idents {
			fmt.Fprintf(&src, "      - { column: %s, type: %s }\n", i.Column, i.Type)
		}
	}
	files := map[string]string{
		"cdp.yml":             cfg.String(),
		"models/identity.yml": id.String(),
		"models/sources.yml":  src.String(),
		"models/traits.yml":   traitsYAML,
		"models/segments.yml": segmentsYAML,
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

const traitsYAML = `traits:
  - name: email
    from: crm_contacts.email
    pick: latest
  - name: lifetime_value
    from: orders.amount
    aggregate: sum
    where: "status = 'paid'"
  - name: orders_count
    from: orders
    aggregate: count
    where: "status = 'paid'"
  - name: last_seen_at
    from: web_events.occurred_at
    pick: max
`

const segmentsYAML = `segments:
  - name: buyers
    where:
      all:
        - { trait: orders_count, gte: 1 }
`

// LaterBatch is how far AppendLater moves a batch's timestamps: past every
// base row (Epoch + LaterBatch > AsOf + the longest web chain's span), so the
// batch is newer than the last run's watermark, as fresh data is.
const LaterBatch = 5 * 365 * 24 * time.Hour

// LaterAsOf is the as-of time of runs that see an AppendLater batch: after
// every row it wrote.
var LaterAsOf = AsOf.Add(LaterBatch).AddDate(3, 0, 0)

// LoadSources (re)creates the raw tables with persons [0, n) of every
// source, or appends persons [from, to) when appending. It returns the row
// count written.
func LoadSources(ctx context.Context, w warehouse.Warehouse, g Gen, from, to int, appendRows bool) (int64, error) {
	return loadSources(ctx, w, g, from, to, appendRows, 0)
}

// AppendLater appends persons [from, to) of every source with their
// timestamps moved LaterBatch forward: a batch of new rows arriving after
// the base data.
func AppendLater(ctx context.Context, w warehouse.Warehouse, g Gen, from, to int) (int64, error) {
	return loadSources(ctx, w, g, from, to, true, LaterBatch)
}

func loadSources(ctx context.Context, w warehouse.Warehouse, g Gen, from, to int, appendRows bool, shift time.Duration) (int64, error) {
	d := w.Dialect()
	if _, err := w.Exec(ctx, d.CreateSchema(RawSchema)); err != nil {
		return 0, err
	}
	bl, ok := w.(warehouse.BulkLoader)
	if !ok {
		return 0, fmt.Errorf("%s cannot bulk load", d.Name())
	}
	var total int64
	for _, s := range Sources {
		table := d.Table(RawSchema, s.Name)
		if appendRows {
			table = d.Table(RawSchema, s.Name+"_new")
		}
		n, err := bl.LoadRows(ctx, table, s.Cols, shifted(s.puller(g, from, to), shift))
		if err != nil {
			return total, fmt.Errorf("load %s: %w", s.Name, err)
		}
		total += n
		if appendRows {
			if _, err := w.Exec(ctx, fmt.Sprintf("INSERT INTO %s SELECT * FROM %s", d.Table(RawSchema, s.Name), table)); err != nil {
				return total, err
			}
			if _, err := w.Exec(ctx, d.DropTable(table)); err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// puller turns the push-style row generator into the pull-style callback
// warehouse.BulkLoader wants, one person at a time.
func (s *Source) puller(g Gen, from, to int) func() ([]any, error) {
	var buf [][]any
	i := from
	return func() ([]any, error) {
		for len(buf) == 0 {
			if i >= to {
				return nil, io.EOF
			}
			s.Rows(g, i, i+1, func(row []any) { buf = append(buf, row) })
			i++
		}
		row := buf[0]
		buf = buf[1:]
		return row, nil
	}
}

// shifted moves every timestamp value of the rows from next by d.
func shifted(next func() ([]any, error), d time.Duration) func() ([]any, error) {
	if d == 0 {
		return next
	}
	return func() ([]any, error) {
		row, err := next()
		for i, v := range row {
			if t, ok := v.(time.Time); ok {
				row[i] = t.Add(d)
			}
		}
		return row, err
	}
}
