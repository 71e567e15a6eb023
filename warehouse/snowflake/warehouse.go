package snowflake

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

func init() {
	warehouse.Register(Type, Dialect{}, openTarget)
}

// Warehouse is a Snowflake database reached through gosnowflake's
// database/sql pool. It is safe for concurrent use.
type Warehouse struct {
	db *sql.DB
}

var _ warehouse.Warehouse = (*Warehouse)(nil)

// sessionParams are set on every session so that QuoteIdent means what it
// says whatever the account's defaults are: quoted names keep their case,
// and timestamps without zone stay TIMESTAMP_NTZ.
func sessionParams() map[string]*string {
	f, ntz := "false", "TIMESTAMP_NTZ"
	return map[string]*string{
		"QUOTED_IDENTIFIERS_IGNORE_CASE": &f,
		"TIMESTAMP_TYPE_MAPPING":         &ntz,
	}
}

// Open connects with a gosnowflake configuration and checks the connection.
func Open(ctx context.Context, cfg *sf.Config) (*Warehouse, error) {
	if cfg.Params == nil {
		cfg.Params = map[string]*string{}
	}
	for k, v := range sessionParams() {
		if cfg.Params[k] == nil && cfg.Params[strings.ToLower(k)] == nil {
			cfg.Params[k] = v
		}
	}
	if cfg.Application == "" {
		cfg.Application = "cdp"
	}
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *cfg))
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("snowflake: connect to account %s: %w", cfg.Account, err)
	}
	return &Warehouse{db: db}, nil
}

// OpenDSN connects with a gosnowflake DSN
// (user:password@account/database/schema?warehouse=…&role=…).
func OpenDSN(ctx context.Context, dsn string) (*Warehouse, error) {
	cfg, err := sf.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("snowflake: %w", err)
	}
	return Open(ctx, cfg)
}

// Config builds a gosnowflake configuration from a target's settings:
// account, user, password or private_key_path (an unencrypted PKCS#8 PEM
// key, resolved against projectRoot), role, warehouse, database. The CDP
// schema is not the session's schema: every name the CDP writes is
// qualified with it.
func Config(t *models.Target, projectRoot string) (*sf.Config, error) {
	s := t.Settings
	var missing []string
	for _, k := range []string{"account", "user", "database", "warehouse"} {
		if strings.TrimSpace(s[k]) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("snowflake needs the settings %s (see docs/snowflake.md)", strings.Join(missing, ", "))
	}
	cfg := &sf.Config{
		Account:   s["account"],
		User:      s["user"],
		Role:      s["role"],
		Warehouse: s["warehouse"],
		Database:  s["database"],
	}
	switch key, pw := s["private_key_path"], s["password"]; {
	case key != "" && pw != "":
		return nil, errors.New("snowflake: set either password or private_key_path, not both")
	case key != "":
		if !filepath.IsAbs(key) {
			key = filepath.Join(projectRoot, key)
		}
		pk, err := readPrivateKey(key)
		if err != nil {
			return nil, err
		}
		cfg.Authenticator, cfg.PrivateKey = sf.AuthTypeJwt, pk
	case pw != "":
		cfg.Password = pw
	default:
		return nil, errors.New("snowflake needs a password or a private_key_path setting (see docs/snowflake.md)")
	}
	return cfg, nil
}

// readPrivateKey reads an unencrypted PKCS#8 RSA private key in PEM.
func readPrivateKey(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("snowflake: private key: %w", err)
	}
	return parsePrivateKey(b, path)
}

// parsePrivateKey decodes an unencrypted PKCS#8 RSA private key in PEM;
// where names the key in error messages.
func parsePrivateKey(pemBytes []byte, where string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	switch {
	case block == nil:
		return nil, fmt.Errorf("snowflake: private key %s: no PEM block", where)
	case block.Type == "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("snowflake: private key %s is encrypted; decrypt it for the CDP with "+
			"`openssl pkcs8 -topk8 -nocrypt -in %s -out rsa_key.p8` and keep that file private", where, where)
	case block.Type != "PRIVATE KEY":
		return nil, fmt.Errorf("snowflake: private key %s: PEM block %q, want PKCS#8 \"PRIVATE KEY\" "+
			"(convert with `openssl pkcs8 -topk8 -nocrypt`)", where, block.Type)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("snowflake: private key %s: %w", where, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("snowflake: private key %s: %T, Snowflake key-pair authentication needs RSA", where, k)
	}
	return rk, nil
}

// openTarget is the registry's Opener.
func openTarget(ctx context.Context, t *models.Target, projectRoot string) (warehouse.Warehouse, error) {
	cfg, err := Config(t, projectRoot)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", t.Name, err)
	}
	w, err := Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", t.Name, err)
	}
	return w, nil
}

// DB exposes the underlying database handle for engine-specific needs.
func (w *Warehouse) DB() *sql.DB { return w.db }

// Dialect returns Dialect{}.
func (w *Warehouse) Dialect() warehouse.Dialect { return Dialect{} }

// execer is what *sql.DB and *sql.Conn share.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Exec runs one statement in autocommit mode and returns the rows it
// changed, or -1 when the driver cannot tell.
func (w *Warehouse) Exec(ctx context.Context, stmt string) (int64, error) {
	return execOn(ctx, w.db, stmt)
}

func execOn(ctx context.Context, e execer, stmt string) (int64, error) {
	res, err := e.ExecContext(ctx, stmt)
	if err != nil {
		return -1, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return -1, nil
	}
	return n, nil
}

// Query runs one statement returning rows; column names come back as
// shared code wrote them (see Rows).
func (w *Warehouse) Query(ctx context.Context, stmt string) (warehouse.Rows, error) {
	rows, err := w.db.QueryContext(ctx, stmt)
	if err != nil {
		return nil, err
	}
	return newRows(rows)
}

// Close closes the pool.
func (w *Warehouse) Close() error { return w.db.Close() }
