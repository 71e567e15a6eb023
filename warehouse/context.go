package warehouse

import "context"

// jobLabelKey is the context key of WithJobLabel.
type jobLabelKey struct{}

// WithJobLabel returns a context whose statements belong to a compiled node
// (node.ID such as identity.customer). Warehouses that label their jobs
// (BigQuery) attach it to every statement run with the context; others
// ignore it.
func WithJobLabel(ctx context.Context, nodeID string) context.Context {
	return context.WithValue(ctx, jobLabelKey{}, nodeID)
}

// JobLabel returns the node ID set by WithJobLabel, or "".
func JobLabel(ctx context.Context) string {
	s, _ := ctx.Value(jobLabelKey{}).(string)
	return s
}

// Estimate is the cost estimate of one statement.
type Estimate struct {
	// Bytes is how many bytes the statement would process.
	Bytes int64
}

// Estimator is an optional ability: estimate a statement without running it
// (BigQuery's dry run). Statements that read tables an earlier statement of
// the same program creates cannot be estimated before that one has run.
type Estimator interface {
	EstimateStatement(ctx context.Context, stmt string) (Estimate, error)
}
