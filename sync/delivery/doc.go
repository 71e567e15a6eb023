// Package delivery owns what every destination shares when a sync sends its
// diff: cutting the record stream into batches no larger than the
// destination allows, applying them with bounded concurrency under a token
// bucket, retrying throttled and failed attempts with exponential backoff
// and full jitter (honouring Retry-After, which pauses every worker), and
// handing each finished batch of per-record outcomes to a commit callback so
// that state is written only after the destination confirmed it.
//
// Deliver is the single entry point. Destinations themselves only implement
// destination.Destination; they never retry, sleep or batch on their own.
//
// Memory stays bounded while the diff streams: Deliver pulls a new batch
// only while at most (Concurrency+1)×MaxBatch records are held outside the
// retry queue and the retry queue holds fewer than Concurrency×MaxBatch
// records, so it never holds more than (2×Concurrency+1)×MaxBatch records.
package delivery
