// Package identity compiles the identity graph into SQL: identifier
// normalization, exclusions, connected components that converge in
// O(log n) rounds (min-label hooking with pointer jumping over a contracting
// graph), the limit rules resolved exactly as a priority-ordered greedy
// (Kruskal) merge, and profile IDs that stay stable across runs.
//
// The algorithm, in the order the SQL runs it:
//
//  1. occurrences: every normalized identifier of every source row;
//     nodes: one row per (id_type, id_value) with a dense node_id, first and
//     last seen, source count, and the exclusion pattern it matched (if any).
//  2. edges: every pair of non-excluded identifiers that share a source row,
//     with the earliest timestamp and a tier = the weaker type's priority.
//  3. components over all edges. Components that respect every limit are
//     final: any merge order gives the same result for them.
//  4. components that break a limit are rebuilt tier by tier, strongest
//     first. Per tier, clusters joined by the tier's links whose union fits
//     the limits merge at once; the others are resolved by rounds in which a
//     link is rejected once its two clusters' union breaks a limit (clusters
//     only grow, so that is final) and accepted when it is the earliest
//     pending link at both of its clusters (no earlier link can change either
//     cluster). This equals processing links one by one in priority order.
//  5. profile IDs: a previous profile is claimed by the component holding its
//     oldest surviving identifier; a component with several claims keeps the
//     oldest profile; a component with none mints md5(oldest identifier).
//
// A full build also stores the graph (identifiers with their raw component,
// per-source times, links: state.go). An incremental build (incremental.go)
// reads only rows after each source's watermark, merges them into that
// state, and rebuilds only the raw components they touch with steps 4 and 5;
// limits never act across raw components, so the result equals a full build.
package identity
