// Command cdpbench is `make bench`: it runs the benchmark suite of package
// bench and writes docs/benchmarks.md, docs/benchmarks.json and
// docs/benchmarks.svg. Flags choose the scales, the naive approach's time
// budget, the sync rate limit and where the cdp CLI binary is.
package main
