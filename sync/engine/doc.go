// Package engine runs syncs to the guarantees of docs/sync.md:
//
//  1. the current snapshot of a sync (members not in holdout, with a
//     non-null key, mapped fields and a hash of them) and its diff against
//     cdp_sync_state are computed in the warehouse and materialized as
//     cdp_sync_diff_<sync> — the plan;
//  2. the plan's rows stream to the delivery machinery in batches (memory is
//     O(batch), never O(audience));
//  3. each batch's confirmed records are committed to cdp_sync_state in one
//     transaction right after the destination confirmed them; rejected
//     records keep their old state, go to cdp_sync_rejections and come back
//     in the next run's diff;
//  4. a lease row in cdp_sync_locks (compare-and-set, with expiry and a
//     heartbeat) keeps two runs of one sync from overlapping;
//  5. max_removals is checked on the plan, before anything is sent;
//  6. every run is recorded in cdp_sync_runs;
//  7. a plan can be saved whole (Save: records, the sync's state version
//     and definition fingerprint) and applied later by Run with
//     RunOptions.Plan through the same delivery and commits, or refused
//     (ErrPlanStale) when the state or the definition moved.
package engine
