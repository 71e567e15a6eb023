// Package destinationtest is a local contract server for the webhook
// destination (sync/destinations/webhook): tests and demos point a sync at it
// and then look at what a real receiver would hold.
//
// A Receiver enforces the contract of every request:
//
//   - POST with content-type application/json;
//   - webhook-id, webhook-timestamp (unix seconds, within Tolerance of now) and,
//     when the receiver has a secret, webhook-signature:
//     v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>, where
//     the key is the base64 after "whsec_" or the secret's raw bytes;
//   - a body {"sync", "run_id", "batch", "records": [{"op", "key", "fields"}]}
//     with no other members, batch equal to webhook-id, op one of add, change,
//     remove, unsubscribe, erase, fields an object, 1 to MaxBatch records;
//   - a webhook-id never seen before with a different body (the id names the
//     content, so receivers can deduplicate retries).
//
// A violation is answered 400 and reported: with New, through t.Errorf, so a
// client that breaks the contract fails the test.
//
// An accepted batch is applied like a real destination would: add and change
// store the record's fields under its key, remove deletes the key,
// unsubscribe marks the key unsubscribed (Unsubscribed; the record stays)
// and erase deletes the key for good (Erased). An erase of a key the
// receiver does not hold is answered per record with status "not_found"
// (the body then lists the results). The receiver keeps that state, a log of every applied record operation and of
// every batch, and request counters (State, Ops, BatchLog, Stats).
//
// Faults make it misbehave on a deterministic schedule: 429 with Retry-After,
// 500 or any status every n requests, hang until the client gives up, drop the
// connection without answering, and reject or ask to retry records at a given
// rate drawn from a seeded generator. Pause holds requests until Resume;
// OnBatch sees each applied batch before it is confirmed, so a test can kill
// the client between delivery and confirmation.
//
// New serves a Receiver on 127.0.0.1 for the duration of a test; Serve runs
// one on any address for subprocess tests and demos (see cmd/receiver).
package destinationtest
