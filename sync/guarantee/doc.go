// Package guarantee holds the destination guarantee suite: one
// parametrized set of tests that drives every vendor connector through the
// real sync engine against its local contract server
// (sync/destinationtest/<vendor>), on DuckDB and PostgreSQL, and checks
// that the vendor's final state equals the modelled audience exactly:
//
//   - every mode the connector supports, over three runs of changing data
//     (newcomers, changed and cleared traits, people leaving, merges, key
//     changes);
//   - faults (the vendor's own rate-limit signal, 5xx, timeouts, dropped
//     connections, per-record rejections and transient errors) converge
//     with nothing lost;
//   - max_removals stops a run before anything is sent;
//   - a SIGKILL mid-delivery: the rerun converges, resends nothing that
//     was committed, resumes asynchronous jobs, and the killed run's
//     history shows what it committed;
//   - two concurrent runs never overlap.
//
// The package has only tests; adding a connector means adding its contract
// server to the vendors list.
package guarantee
