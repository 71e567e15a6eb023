// Package sync is the home of the sync engine, which turns segments into
// deliveries (docs/sync.md). Its parts live in sub-packages:
//
//	sync/destination      the Destination interface, records, results, registry
//	sync/delivery         batching, concurrency, rate limiting, retries
//	sync/engine           snapshot and diff in the warehouse, commit, locks, history
//	sync/hashing          normalization profiles that hash PII in the warehouse
//	sync/destinations/…   one package per destination type
//	sync/destinationtest  a local contract server for tests
package sync
