package privacy

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// Request statuses in cdp_erasure_requests.
const (
	// StatusRequested: recorded by `cdp forget`, not yet applied by a
	// complete run.
	StatusRequested = "requested"
	// StatusApplied: a complete run rebuilt every table without the person.
	StatusApplied = "applied"
)

// Target statuses in cdp_erasure_targets.
const (
	// TargetPending: the destination has not confirmed the erasure yet.
	TargetPending = "pending"
	// TargetErased: the destination confirmed its erase primitive.
	TargetErased = "erased"
	// TargetRemoved: the destination has no erase primitive; the record was
	// removed instead (the person must be deleted there by hand).
	TargetRemoved = "removed"
	// TargetRefused: the destination refused the erasure for good.
	TargetRefused = "refused"
	// TargetManual: the destination can neither erase nor remove.
	TargetManual = "manual"
)

// column is a name and CDP type for DDL.
type column struct{ name, typ string }

func createTable(d warehouse.Dialect, table string, cols []column) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = d.QuoteIdent(c.name) + " " + d.TypeName(c.typ)
	}
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s)", table, strings.Join(parts, ", "))
}

// DDL creates the ledger's tables when missing.
func DDL(t layout.Tables) []string {
	d := t.D
	s, ts, n := models.TypeString, models.TypeTimestamp, models.TypeInteger
	return []string{
		d.CreateSchema(t.Schema),
		createTable(d, t.Q(t.PrivacySalt()), []column{{"salt", s}, {"created_at", ts}}),
		createTable(d, t.Q(t.ErasureRequests()), []column{
			{"request_id", s}, {"id_type", s}, {"id_hash", s}, {"reason", s}, {"requested_at", ts},
			{"status", s}, {"profiles", n}, {"applied_at", ts}}),
		createTable(d, t.Q(t.Tombstones()), []column{{"id_type", s}, {"id_hash", s}, {"request_id", s}, {"created_at", ts}}),
		createTable(d, t.Q(t.ErasureTargets()), []column{
			{"request_id", s}, {"sync", s}, {"destination", s}, {"key", s}, {"status", s}, {"receipt", s},
			{"error", s}, {"recorded_at", ts}, {"confirmed_at", ts}}),
	}
}

// Ensure creates the ledger's tables when missing.
func Ensure(ctx context.Context, w warehouse.Warehouse, t layout.Tables) error {
	for _, q := range DDL(t) {
		if _, err := w.Exec(ctx, q); err != nil {
			return fmt.Errorf("create the erasure ledger: %w", err)
		}
	}
	return nil
}

// Hash is the tombstone of one normalized identifier: the lowercase hex
// SHA-256 of salt, id type, ":" and value (HashSQL computes the same in
// the warehouse).
func Hash(salt, idType, value string) string {
	sum := sha256.Sum256([]byte(salt + idType + ":" + value))
	return hex.EncodeToString(sum[:])
}

// HashSQL is Hash in SQL over a text expression of the id type and one of
// the value.
func HashSQL(d warehouse.Dialect, salt, typeExpr, valueExpr string) string {
	return d.SHA256Hex(d.QuoteString(salt) + " || " + typeExpr + " || ':' || " + valueExpr)
}

// readSalt returns the project's salt ("" when none was made yet): the
// oldest row, so two forgets racing to create one agree on the survivor.
func readSalt(ctx context.Context, w warehouse.Warehouse, t layout.Tables) (string, error) {
	rows, err := w.Query(ctx, "SELECT salt FROM "+t.Q(t.PrivacySalt())+" ORDER BY created_at, salt LIMIT 1")
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var salt string
	if rows.Next() {
		if err := rows.Scan(&salt); err != nil {
			return "", err
		}
	}
	return salt, rows.Err()
}

// ensureSalt returns the salt, creating it (32 random bytes, hex) on first use.
func ensureSalt(ctx context.Context, w warehouse.Warehouse, t layout.Tables, now time.Time) (string, error) {
	salt, err := readSalt(ctx, w, t)
	if err != nil || salt != "" {
		return salt, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	d := t.D
	if _, err := w.Exec(ctx, fmt.Sprintf("INSERT INTO %s (salt, created_at) VALUES (%s, %s)", t.Q(t.PrivacySalt()),
		d.QuoteString(hex.EncodeToString(b)), d.TimestampLiteral(now))); err != nil {
		return "", fmt.Errorf("create the tombstone salt: %w", err)
	}
	return readSalt(ctx, w, t)
}

// exists reports whether a zero-row probe of table succeeds.
func exists(ctx context.Context, w warehouse.Warehouse, table string) bool {
	rows, err := w.Query(ctx, "SELECT 1 FROM "+table+" WHERE 1 = 0")
	if err != nil {
		return false
	}
	for rows.Next() {
	}
	err = rows.Err()
	rows.Close()
	return err == nil
}

// count runs a query returning one integer.
func count(ctx context.Context, w warehouse.Warehouse, q string) (int64, error) {
	rows, err := w.Query(ctx, q)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n *int64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	if n == nil {
		return 0, rows.Err()
	}
	return *n, rows.Err()
}
