// Package metacustomaudience is the "meta_custom_audience" destination: it
// adds the sync's records to a Meta customer-file custom audience as rows
// of SHA-256 hashes (multi-key schema) and, in mirror mode, removes
// leavers.
//
// # Requests
//
// POST /{api_version}/{audience_id}/users adds rows, DELETE of the same
// path removes them; both take form fields payload (JSON
// {schema: [EMAIL, PHONE, FN, …], data: [[hash, hash, …], …]}, at most
// 10,000 rows), session (JSON {session_id, batch_seq: 1,
// last_batch_flag: true, estimated_num_total}: one session per request),
// access_token and appsecret_proof (hex HMAC-SHA256 of the token keyed by
// the app secret). The answer is {audience_id, session_id, num_received,
// num_invalid_entries, invalid_entry_samples}.
//
// # Fields
//
// Destination fields are schema keys (Keys). Every PII key must be mapped
// with a hashing profile (config check and New refuse it otherwise); a
// value that is not a lowercase hex SHA-256 at send time rejects its
// record. The row sent is kept as the record's remote ID
// (KEY=hash;KEY=hash), so that a change of an identifier removes the old
// row before adding the new one, and a removal sends exactly what was
// added.
//
// # Failures
//
// Graph API errors are read by code: 4, 17, 32, 613, 80003 throttle
// (retried, after estimated_time_to_regain_access from
// X-Business-Use-Case-Usage), 190 and 102 (token) and 10, 200–299
// (permission) stop the run, 1 and 2 and 5xx are retried, the rest reject
// the batch. Entries named in invalid_entry_samples reject their records;
// fewer rows received than sent is a retryable batch error.
//
// Vendor documentation followed:
//
//	https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences
//	https://developers.facebook.com/docs/marketing-api/reference/custom-audience/users/
//	https://developers.facebook.com/docs/graph-api/securing-requests/
//	https://developers.facebook.com/docs/graph-api/overview/rate-limiting/
//	https://developers.facebook.com/docs/marketing-api/error-reference/
package metacustomaudience
