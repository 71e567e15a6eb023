package seed

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cdpkit/cdp/warehouse"
)

// Options tune Load. The zero value loads into seed_<stem> tables with
// 500-row INSERT batches when the warehouse has no BulkLoader.
type Options struct {
	// TableName maps a sanitized file stem (see Stem) to a table name;
	// nil means "seed_" + stem.
	TableName func(stem string) string
	// BatchSize is the number of rows per INSERT when the warehouse has no
	// BulkLoader; 0 means 500.
	BatchSize int
}

// Result reports one loaded file.
type Result struct {
	Path    string             // the CSV file
	Table   string             // unqualified table name, e.g. seed_customers
	Columns []warehouse.Column // names and inferred CDP types
	Rows    int64              // rows loaded
}

// plan is one file checked and ready to load.
type plan struct {
	path  string
	table string
	cols  []warehouse.Column
}

// Load loads every CSV file of paths (files, or folders whose *.csv files are
// taken in name order) into schema, creating the schema first unless it is
// empty. It checks every file before loading any and returns all problems
// together. Results come in load order.
func Load(ctx context.Context, w warehouse.Warehouse, schema string, paths []string, opts Options) ([]Result, error) {
	files, filesErr := Files(paths)
	plans, checkErr := check(files, opts)
	if err := errors.Join(filesErr, checkErr); err != nil {
		return nil, err
	}
	d := w.Dialect()
	if schema != "" && len(plans) > 0 {
		if _, err := w.Exec(ctx, d.CreateSchema(schema)); err != nil {
			return nil, fmt.Errorf("seed: create schema %s: %w", schema, err)
		}
	}
	var results []Result
	for _, p := range plans {
		n, err := loadFile(ctx, w, d.Table(schema, p.table), p, opts)
		if err != nil {
			return results, err
		}
		results = append(results, Result{Path: p.path, Table: p.table, Columns: p.cols, Rows: n})
	}
	return results, nil
}

// Files expands paths into the CSV files to load: a file is taken as is, a
// folder contributes its *.csv files (any case, not recursive) in name order.
// Paths that cannot be read are reported together, after the files found.
func Files(paths []string) ([]string, error) {
	var out []string
	var errs []error
	for _, p := range paths {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("%s: error: seed path does not exist; check seed_paths in cdp.yml", p))
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: error: %w", p, err))
			continue
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: error: %w", p, err))
			continue
		}
		var found []string
		for _, e := range entries {
			if !e.IsDir() && strings.EqualFold(filepath.Ext(e.Name()), ".csv") {
				found = append(found, filepath.Join(p, e.Name()))
			}
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, errors.Join(errs...)
}

// Stem returns the file's name without folder and extension, lower-cased,
// with every run of characters outside [a-z0-9_] replaced by one _ and
// leading and trailing _ removed: "Customer Orders (2024).csv" gives
// customer_orders_2024.
func Stem(path string) string {
	base := filepath.Base(path)
	base = strings.ToLower(strings.TrimSuffix(base, filepath.Ext(base)))
	var b strings.Builder
	under := false
	for _, r := range base {
		ok := r == '_' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9'
		if !ok || r == '_' {
			if !under {
				b.WriteByte('_')
			}
			under = true
			continue
		}
		b.WriteRune(r)
		under = false
	}
	return strings.Trim(b.String(), "_")
}

// check infers every file's columns and table, collecting all problems.
func check(files []string, opts Options) ([]plan, error) {
	name := opts.TableName
	if name == nil {
		name = func(stem string) string { return "seed_" + stem }
	}
	var plans []plan
	var errs []error
	byTable := map[string]string{}
	for _, f := range files {
		stem := Stem(f)
		if stem == "" {
			errs = append(errs, fmt.Errorf("%s: error: file name has no letters or digits to name a table", f))
			continue
		}
		table := name(stem)
		if prev, dup := byTable[strings.ToLower(table)]; dup {
			errs = append(errs, fmt.Errorf("%s: error: table %s is also loaded from %s; rename one of the files", f, table, prev))
			continue
		}
		byTable[strings.ToLower(table)] = f
		cols, err := InferColumns(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		plans = append(plans, plan{path: f, table: table, cols: cols})
	}
	return plans, errors.Join(errs...)
}
