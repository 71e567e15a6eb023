// Package bench is the benchmark suite behind `make bench`: how the cost of
// the CDP grows with the customer base.
//
// A deterministic generator (Gen, Sources) writes realistic raw tables with
// ground truth at any scale: people with several messy emails and phones,
// anonymous_id chains of up to a few hundred hops, shared devices, junk
// placeholders, orders and events. Harness.Run then measures, on the same
// engine and data:
//
//   - identity: the real compiled identity program (compiler + runner), the
//     naive one-hop minimum-label propagation many SQL projects use (written
//     here from that description, through the Dialect), and an in-memory
//     union-find in Go applying the same rules (the physical limit); wall
//     time per stage, rounds, peak RSS and agreement with the ground truth
//     and the union-find. Each approach runs in its own process (MaybeChild)
//     so its peak RSS is its own;
//   - rounds against the length of a single chain;
//   - incremental `cdp run` after 1% new rows against `cdp run
//     --full-refresh`, when the CLI has that flag;
//   - `cdp sync run` of a large audience to the local contract server under
//     a rate limit: rows/s, share of the limit used, retries, exactness at
//     the receiver, peak RSS of the CLI.
//
// WriteReport writes the JSON, a Markdown report with the targets met or
// missed, and an SVG chart (docs/benchmarks.*). cmd/cdpbench is the command.
package bench
