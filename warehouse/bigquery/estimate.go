package bigquery

import (
	"context"
	"errors"

	"cloud.google.com/go/bigquery"

	"github.com/cdpkit/cdp/warehouse"
)

// EstimateStatement dry-runs stmt: BigQuery validates it and reports how many
// bytes it would process, without running it or charging for it.
func (w *Warehouse) EstimateStatement(ctx context.Context, stmt string) (warehouse.Estimate, error) {
	q := w.query(ctx, stmt)
	q.DryRun = true
	defer w.oneAtATime()()
	job, err := q.Run(ctx)
	if err != nil {
		return warehouse.Estimate{}, err
	}
	st := job.LastStatus()
	if st == nil || st.Statistics == nil {
		return warehouse.Estimate{}, errors.New("bigquery: the dry run reported no statistics")
	}
	if err := st.Err(); err != nil {
		return warehouse.Estimate{}, err
	}
	bytes := st.Statistics.TotalBytesProcessed
	if qs, ok := st.Statistics.Details.(*bigquery.QueryStatistics); ok && qs.TotalBytesProcessed > bytes {
		bytes = qs.TotalBytesProcessed
	}
	return warehouse.Estimate{Bytes: bytes}, nil
}
