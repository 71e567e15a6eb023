// Package compiler turns a validated project into a DAG of nodes —
// source.<name> (a view with normalized identifiers), identity.<entity>,
// profiles.<entity> and segment.<name> — each holding a deterministic SQL
// program built only through the target's warehouse.Dialect. Render prints
// those programs for `cdp compile`; golden files in testdata/golden pin the
// retail example's SQL for every dialect (`go test ./compiler -run Golden -update`).
//
// A graph compiles in a Mode: full, or incremental (incremental.go: the
// identity node reads only rows after each source's watermark, the profiles
// node recomputes only the profiles that may have changed). Fingerprint
// digests the configuration the stored state depends on; Graph.Finish
// records the watermarks after a complete run.
package compiler
