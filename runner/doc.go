// Package runner executes compiled programs against a warehouse: statements
// in order, while-loops until their condition count reaches zero, and the
// node-by-node `cdp run` with progress, row counts and the cdp_runs history.
// DecideMode chooses between a full and an incremental run from the
// warehouse's state (mode.go).
package runner
