// Package metacustomaudience is a local contract server of the Meta
// Marketing API's custom audience users edge, which the
// meta_custom_audience destination (sync/destinations/metacustomaudience)
// calls, built from Meta's public documentation:
//
//	https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences
//	https://developers.facebook.com/docs/marketing-api/reference/custom-audience/users/
//	https://developers.facebook.com/docs/graph-api/securing-requests/
//	https://developers.facebook.com/docs/graph-api/overview/rate-limiting/
//
// # What it enforces
//
//   - POST (add) and DELETE (remove) of /vNN.N/{audience_id}/users only, with
//     a form body (application/x-www-form-urlencoded; the token never in the
//     URL);
//   - access_token (a wrong or revoked one — Revoke — is Graph error 190,
//     not a violation) and appsecret_proof, the hex HMAC-SHA256 of the token
//     keyed by the app secret;
//   - payload {schema: [known multi-key keys, each once], data: rows of
//     strings as long as the schema}, 1 to 10,000 rows, every PII key a
//     lowercase hex SHA-256 or blank (plain PII is a violation);
//   - session {session_id > 0, batch_seq from 1 and following the
//     session's last, last_batch_flag}: nothing after a closed session.
//
// A violation is recorded (through t.Errorf with New) and answered with
// Graph error 100.
//
// # What it holds
//
// The audience's people: an added row replaces those it shares an EMAIL,
// PHONE, MADID or EXTERN_ID with; a removed row takes out every person it
// shares one with. Audience reports them by EMAIL hash with the FN hash as
// "name". The answer is {audience_id, session_id, num_received,
// num_invalid_entries, invalid_entry_samples}; the samples map the first
// value of each invalid row, as sent, to a reason (Meta documents only
// "samples"; this shape is the server's).
//
// # Faults
//
// The kit's schedule: its 429 is Meta's throttling, Graph error 80003
// (HTTP 400) with X-Business-Use-Case-Usage naming
// estimated_time_to_regain_access in minutes; rejected records are invalid
// entries (not applied, listed in invalid_entry_samples). Meta has no
// transient per-record error: records drawn for a retry are applied.
package metacustomaudience
