package bigquery

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/googleapi"
)

// createSchemaPrefix starts the statements Dialect.CreateSchema renders.
const createSchemaPrefix = "CREATE SCHEMA IF NOT EXISTS "

// createDataset runs a CREATE SCHEMA IF NOT EXISTS statement of
// Dialect.CreateSchema through the datasets API instead of a query job: the
// emulator accepts the statement but creates nothing, while the API call
// does the same on both (in the target's location). It reports false for any
// other statement.
func (w *Warehouse) createDataset(ctx context.Context, stmt string) (bool, error) {
	rest, ok := strings.CutPrefix(stmt, createSchemaPrefix)
	if !ok || len(rest) < 2 || rest[0] != '`' || rest[len(rest)-1] != '`' {
		return false, nil
	}
	name := unescape(rest[1 : len(rest)-1])
	project, dataset := w.cfg.Project, name
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		project, dataset = name[:i], name[i+1:]
	}
	ds := w.client.DatasetInProject(project, dataset)
	err := ds.Create(ctx, &bigquery.DatasetMetadata{Location: w.cfg.Location})
	var ge *googleapi.Error
	if errors.As(err, &ge) && ge.Code == http.StatusConflict {
		return true, nil
	}
	if err != nil {
		// the emulator answers 500 "already created" rather than 409
		if _, merr := ds.Metadata(ctx); merr == nil {
			return true, nil
		}
	}
	return true, err
}
