// Package webhook is the "webhook" destination: it POSTs each batch of
// records as JSON to a URL, signed the Standard Webhooks way.
//
// # Settings
//
//	url         required; http or https
//	secret      optional signing secret: "whsec_<base64>" (the key is the
//	            decoded base64) or any other string (the key is its bytes)
//	batch_size  records per request, 1–1000 (default 100)
//	timeout     per request, a Go duration (default 30s)
//
// # Request
//
// One attempt per batch (retries, rate limiting and batching belong to
// sync/delivery):
//
//	POST <url>
//	content-type: application/json
//	webhook-id: msg_<24 hex>
//	webhook-timestamp: <unix seconds>
//	webhook-signature: v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>
//
//	{"sync": "<sync name>", "run_id": "<run id>", "batch": "<webhook-id>",
//	 "records": [{"op": "add"|"change"|"remove"|"unsubscribe"|"erase", "key": "<key>", "fields": {…}}]}
//
// webhook-signature is sent only when a secret is set. webhook-id is the
// first 24 hex digits of SHA-256 over the sync name, run id and records, so
// a retried batch carries the same id and receivers can deduplicate it; the
// timestamp changes between attempts and is not part of the body. Fields
// hold JSON null, strings, numbers, booleans and times (RFC 3339 in UTC);
// remove, unsubscribe and erase records carry the last delivered fields.
// unsubscribe says the person withdrew a consent the sync requires; erase
// (cdp forget) asks the receiver to delete everything it holds about the
// person. A record that cannot be
// encoded (a NaN or infinite number) is rejected without being sent.
//
// # Response
//
//	2xx, empty body               every record confirmed
//	2xx, {"results": [{"index": i, "status": "ok"|"not_found"|"rejected"|"retry", "error": "…"}]}
//	                              per record; index is the position in
//	                              "records"; a record not listed is confirmed
//	429                           batch retryable after Retry-After (seconds
//	                              or an HTTP date), when given
//	408, 5xx                      batch retryable (Retry-After honoured)
//	3xx                           batch not retryable: redirects are not
//	                              followed, set url to the final address
//	other 4xx                     batch not retryable; the error quotes the
//	                              start of the body
//	no response, timeout          batch retryable
//
// A 2xx body that is not such an object, lists an index outside the batch or
// twice, or an unknown status is a retryable batch error: nothing can be
// assumed confirmed. "rejected" marks a record the receiver will not take
// (kept as a rejection, retried at the next run); "retry" a transient
// failure of that record. "not_found" confirms a record the receiver does
// not hold (an erase with nothing to erase): its receipt is "not found:
// nothing to erase". Another confirmed erase or unsubscribe gets the
// receipt "HTTP <status>".
//
// sync/destinationtest is a local server that enforces this contract.
package webhook
