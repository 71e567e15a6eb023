package privacy

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/cdpkit/cdp/identity"
	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// SourceRows is what Report found in one source: the rows that still
// carry a forgotten person's identifier.
type SourceRows struct {
	Source string `json:"source"`
	// Table is the source's table ("" for a source defined by SQL).
	Table string `json:"table,omitempty"`
	Rows  int64  `json:"rows"`
	// PrimaryKey and Keys name those rows by the source's primary key
	// (Keys in byte order); both empty without a primary key.
	PrimaryKey string   `json:"primary_key,omitempty"`
	Keys       []string `json:"keys,omitempty"`
	// DeleteSQL deletes exactly those rows from the source's table: by
	// primary key, or else by the tombstone hashes of its identifier
	// columns (so it holds no plain value); "" when no statement can (a SQL
	// source, or no primary key and identifiers that are not plain
	// columns), and Note says what to do instead.
	DeleteSQL string `json:"delete_sql,omitempty"`
	Note      string `json:"note,omitempty"`
}

// RowsSQL is the query Report runs for a source (compiler.ForgottenRowsSQL):
// the primary keys of its rows carrying a tombstoned identifier, in a
// column k, or without a primary key their count, in a column n.
type RowsSQL func(s *models.Source, salt string) string

// Report lists, per source, the rows that still hold a tombstoned
// identifier, found as the source views find them (the same
// normalization, phone numbers included), with the SQL that deletes them.
// The sources are the user's: `cdp` never deletes from them, it only
// excludes those rows from every run.
func Report(ctx context.Context, w warehouse.Warehouse, t layout.Tables, p *models.Project, rowsSQL RowsSQL) ([]SourceRows, error) {
	if err := Ensure(ctx, w, t); err != nil {
		return nil, err
	}
	salt, err := readSalt(ctx, w, t)
	if err != nil || salt == "" {
		return nil, err
	}
	if n, err := count(ctx, w, "SELECT COUNT(*) FROM "+t.Q(t.Tombstones())); err != nil || n == 0 {
		return nil, err
	}
	d := t.D
	var out []SourceRows
	for _, s := range p.Sources {
		if len(s.Identifiers) == 0 {
			continue
		}
		r := SourceRows{Source: s.Name, Table: s.Table, PrimaryKey: s.PrimaryKey}
		if s.PrimaryKey == "" {
			if r.Rows, err = count(ctx, w, rowsSQL(s, salt)); err != nil {
				return nil, fmt.Errorf("source %s: %w", s.Name, err)
			}
		} else {
			var nulls int64
			if r.Keys, nulls, err = texts(ctx, w, rowsSQL(s, salt)); err != nil {
				return nil, fmt.Errorf("source %s: %w", s.Name, err)
			}
			sort.Strings(r.Keys)
			r.Rows = int64(len(r.Keys)) + nulls
			if nulls > 0 {
				r.Note = fmt.Sprintf("%d of these rows have a NULL %s: find them upstream", nulls, s.PrimaryKey)
			}
		}
		if r.Rows == 0 {
			continue
		}
		switch {
		case s.SQL != "":
			r.Note = join(r.Note, "the source is SQL: delete these rows in the tables its SQL reads")
		case s.PrimaryKey != "":
			lits := make([]string, len(r.Keys))
			for i, k := range r.Keys {
				lits[i] = d.QuoteString(k)
			}
			if len(lits) > 0 {
				r.DeleteSQL = "DELETE FROM " + d.Relation(s.Table) + " WHERE " + d.CastText(d.QuoteIdent(s.PrimaryKey)) +
					" IN (" + strings.Join(lits, ", ") + ")"
			}
		default:
			r.DeleteSQL, r.Note = hashDelete(d, p, t, s, salt)
		}
		out = append(out, r)
	}
	return out, nil
}

// hashDelete is a DELETE of a table source without a primary key that
// matches its rows by the tombstone hashes of their identifier columns;
// identifiers it cannot hash in a plain statement (expressions, phone
// numbers, which need libphonenumber's parsing) are named in the note.
func hashDelete(d warehouse.Dialect, p *models.Project, t layout.Tables, s *models.Source, salt string) (string, string) {
	var conds, left []string
	for _, id := range s.Identifiers {
		it := p.IDType(id.Type)
		if it == nil || id.Column == "" || it.Normalize == "phone" {
			left = append(left, id.Type)
			continue
		}
		conds = append(conds, fmt.Sprintf("%s IN (SELECT id_hash FROM %s WHERE id_type = %s)",
			HashSQL(d, salt, d.QuoteString(id.Type), identity.NormalizeSQL(d, it, d.QuoteIdent(id.Column))),
			t.Q(t.Tombstones()), d.QuoteString(id.Type)))
	}
	note := "the source has no primary_key: declare one to get a DELETE by key"
	if len(left) > 0 {
		note += "; rows found by their " + strings.Join(left, ", ") + " are not covered by this statement: find them upstream"
	}
	if len(conds) == 0 {
		return "", note
	}
	return "DELETE FROM " + d.Relation(s.Table) + " WHERE " + strings.Join(conds, "\n   OR "), note
}

// texts returns the first column of a query's rows, and how many were NULL.
func texts(ctx context.Context, w warehouse.Warehouse, q string) ([]string, int64, error) {
	rows, err := w.Query(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []string
	var nulls int64
	for rows.Next() {
		var s *string
		if err := rows.Scan(&s); err != nil {
			return nil, 0, err
		}
		if s == nil {
			nulls++
		} else {
			out = append(out, *s)
		}
	}
	return out, nulls, rows.Err()
}

// join joins two notes.
func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
