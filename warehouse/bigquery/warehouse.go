package bigquery

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/option"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

func init() {
	warehouse.Register(Type, Dialect{}, openTarget)
}

// Config says where the warehouse is and how to reach it.
type Config struct {
	// Project runs the jobs and holds the datasets (required).
	Project string
	// Location is the jobs' (and new datasets') location, such as EU or
	// europe-west1; empty lets BigQuery choose.
	Location string
	// CredentialsFile is a service account key file; empty uses Application
	// Default Credentials.
	CredentialsFile string
	// Endpoint, when set, is the API's base URL (the emulator's), reached
	// without authentication.
	Endpoint string
}

// Warehouse is a BigQuery project reached through the Go client. It is safe
// for concurrent use: every statement is a job of its own.
type Warehouse struct {
	cfg    Config
	client *bigquery.Client
	// serial, on the emulator only, lets one job run at a time: its SQLite
	// store fails concurrent writes with internal errors that the client
	// retries until the context ends.
	serial sync.Mutex
}

// oneAtATime serializes jobs to the emulator; BigQuery runs them concurrently.
func (w *Warehouse) oneAtATime() func() {
	if w.cfg.Endpoint == "" {
		return func() {}
	}
	w.serial.Lock()
	return w.serial.Unlock
}

var (
	_ warehouse.Warehouse  = (*Warehouse)(nil)
	_ warehouse.BulkLoader = (*Warehouse)(nil)
	_ warehouse.Estimator  = (*Warehouse)(nil)
)

// Open creates a client for cfg.Project. It does not run a job.
func Open(ctx context.Context, cfg Config) (*Warehouse, error) {
	if strings.TrimSpace(cfg.Project) == "" {
		return nil, errors.New("bigquery: empty project")
	}
	var opts []option.ClientOption
	if cfg.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(cfg.Endpoint), option.WithoutAuthentication())
	} else if cfg.CredentialsFile != "" {
		opts = append(opts, option.WithCredentialsFile(cfg.CredentialsFile))
	}
	c, err := bigquery.NewClient(ctx, cfg.Project, opts...)
	if err != nil {
		return nil, fmt.Errorf("bigquery: %w", err)
	}
	if cfg.Location != "" {
		c.Location = cfg.Location
	}
	return &Warehouse{cfg: cfg, client: c}, nil
}

// openTarget is the registry's Opener: it reads the project, location,
// credentials_file and endpoint settings (dataset is the target's schema).
func openTarget(ctx context.Context, t *models.Target, _ string) (warehouse.Warehouse, error) {
	s := t.Settings
	if strings.TrimSpace(s["project"]) == "" {
		return nil, fmt.Errorf("target %s: bigquery needs a project setting, e.g. project: my-gcp-project (and dataset: cdp, location: EU)", t.Name)
	}
	w, err := Open(ctx, Config{Project: s["project"], Location: s["location"],
		CredentialsFile: s["credentials_file"], Endpoint: s["endpoint"]})
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", t.Name, err)
	}
	return w, nil
}

// Client exposes the underlying client for engine-specific needs.
func (w *Warehouse) Client() *bigquery.Client { return w.client }

// Dialect returns Dialect{}.
func (w *Warehouse) Dialect() warehouse.Dialect { return Dialect{} }

// query prepares a job for stmt, labelled with the context's node ID.
func (w *Warehouse) query(ctx context.Context, stmt string) *bigquery.Query {
	q := w.client.Query(stmt)
	q.Labels = map[string]string{"cdp": "true"}
	if id := warehouse.JobLabel(ctx); id != "" {
		q.Labels["cdp_node"] = labelValue(id)
	}
	return q
}

// labelValue turns a node ID into a label value: lowercase letters, digits,
// underscores and dashes, at most 63 characters (identity.customer becomes
// identity-customer).
func labelValue(id string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(id) {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	s := b.String()
	if len(s) > 63 {
		s = s[:63]
	}
	return s
}

// Exec runs one statement as a query job and waits for it. It returns the
// rows a DML statement changed, else -1. A statement refused because of a
// concurrent DML on the same table is retried (it had no effect).
func (w *Warehouse) Exec(ctx context.Context, stmt string) (int64, error) {
	var n int64
	err := retry(ctx, func() error {
		var err error
		n, err = w.exec(ctx, stmt)
		return err
	})
	if err != nil && strings.HasPrefix(stmt, "CREATE TABLE IF NOT EXISTS ") && strings.Contains(err.Error(), "already created") {
		// the emulator refuses IF NOT EXISTS over an existing table
		return -1, nil
	}
	return n, err
}

func (w *Warehouse) exec(ctx context.Context, stmt string) (int64, error) {
	defer w.oneAtATime()()
	if ok, err := w.createDataset(ctx, stmt); ok {
		return -1, err
	}
	job, err := w.query(ctx, stmt).Run(ctx)
	if err != nil {
		return -1, err
	}
	status := job.LastStatus()
	if status == nil || !status.Done() {
		// the emulator answers the insert with a finished job; BigQuery
		// usually needs a wait
		if status, err = job.Wait(ctx); err != nil {
			return -1, err
		}
	}
	if err := status.Err(); err != nil {
		return -1, err
	}
	if st, ok := status.Statistics.Details.(*bigquery.QueryStatistics); ok && isDML(st.StatementType) {
		return st.NumDMLAffectedRows, nil
	}
	return -1, nil
}

// isDML reports whether a job's statement type changes rows.
func isDML(statementType string) bool {
	switch statementType {
	case "INSERT", "UPDATE", "DELETE", "MERGE":
		return true
	}
	return false
}

// Query runs one statement and returns its rows. Errors the job reports are
// returned here.
func (w *Warehouse) Query(ctx context.Context, stmt string) (warehouse.Rows, error) {
	var r *Rows
	err := retry(ctx, func() error {
		defer w.oneAtATime()()
		it, err := w.query(ctx, stmt).Read(ctx)
		if err != nil {
			return err
		}
		r = &Rows{it: it}
		return r.peek()
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// maxAttempts bounds the retries of a statement refused for concurrency.
const maxAttempts = 12

// retry runs fn until it succeeds, fails for another reason than a
// concurrent update or a rate limit, or maxAttempts have failed, waiting
// with exponential backoff and jitter in between.
func retry(ctx context.Context, fn func() error) error {
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || attempt == maxAttempts || !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait/2 + rand.N(wait)):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// retryable recognizes BigQuery's refusals of concurrent DML ("Could not
// serialize access to table … due to concurrent update", "Transaction is
// aborted due to concurrent update") and its job rate limits.
func retryable(err error) bool {
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"could not serialize access", "concurrent update", "ratelimitexceeded", "jobratelimitexceeded", "exceeded rate limits"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// Close releases the client.
func (w *Warehouse) Close() error { return w.client.Close() }
