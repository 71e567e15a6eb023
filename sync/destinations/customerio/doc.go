// Package customerio is the "customerio" destination: it creates and
// updates people in a Customer.io workspace through the Track API, and in
// mirror mode keeps the sync's audience as the members of a manual segment.
//
// # Settings
//
//	site_id      required; the workspace's Site ID (basic-auth user)
//	api_key      required, secret; the Track API key (basic-auth password)
//	region       us (default, https://track.customer.io) or eu
//	             (https://track-eu.customer.io); an explicit base_url wins
//	identifier   email (default): the key is identifiers.email;
//	             id: the key is identifiers.id
//	segment_id   the manual segment mirror mode keeps (required for mirror)
//	base_url, rate_limit (default 100/s), batch_size (default 200, at most
//	1000), concurrency (default 4), timeout (default 30s)
//
// # Modes and what each operation sends
//
// upsert — add and change:
//
//	POST /api/v2/batch
//	{"batch": [{"type": "person", "identifiers": {"email": "<key>"},
//	            "action": "identify", "attributes": {"first_name": …, "ltv": …}}, …]}
//
// Every mapped field but the key's goes into attributes; with identifier: id
// the key is identifiers.id and a mapped email field sets the person's
// email attribute. A nil field (null_values: send) is sent as JSON null,
// which removes the attribute: the v2 reference documents "pass null or an
// empty string to remove an attribute" for objects and relationships, and
// identify treats people's attributes the same way. Times are sent as Unix
// seconds, the form Customer.io's date attributes and segment conditions
// expect. A batch whose body would exceed 500 kB is split into several
// requests; a record whose entry exceeds 32 kB, whose key is empty or over
// 150 bytes, or whose attribute names or values exceed 150 and 1000 bytes
// is rejected without being sent.
//
// mirror — add and change as upsert, then the people identified are added
// to the segment; remove takes the person out of it and keeps the person:
//
//	POST /api/v1/segments/{segment_id}/add_customers?id_type=email    {"ids": ["<key>", …]}
//	POST /api/v1/segments/{segment_id}/remove_customers?id_type=email {"ids": ["<key>", …]}
//
// (id_type=id with identifier: id). The segment endpoints take 1000 ids,
// so batch_size is at most 1000. The Track API reference notes that
// removing people from a manual segment needs them to have an id; a
// workspace that identifies people by ID should use identifier: id.
//
// # Answers
//
//	200 {}                                   every entry accepted
//	207 {"errors": [{"batch_index": i, "reason", "field", "message"}]}
//	                                         entry i rejected with that
//	                                         message, the others accepted
//	400                                      the batch is rejected
//	401, 403                                 fatal: the run stops (check
//	                                         site_id and api_key)
//	3xx                                      fatal: the key belongs to the
//	                                         other region (set region)
//	429, 5xx, timeouts                       retried (Retry-After honoured)
//
// A 2xx body that is not of that shape, or names an index outside the
// batch, is a retryable batch error. Customer.io documents no transient
// per-entry error, so every 207 entry error is a rejection (retried by the
// next run). The Track API returns no person ID on identify, so no
// RemoteID is recorded; it takes no idempotency key either: identify and
// the segment calls are idempotent, and a resent batch changes nothing.
//
// # Vendor documentation
//
//   - https://docs.customer.io/integrations/api/track/#tag/track_v2 (v2
//     entity and batch; 500 kB per batch, 32 kB per entry; 207 errors)
//   - https://docs.customer.io/integrations/api/track/#tag/Track-Segments
//     (add_customers, remove_customers, id_type, 1000 ids per request)
//   - https://docs.customer.io/api/track/ (regions, basic authentication,
//     rate limit of 1000 requests per second, customer limits)
//   - https://docs.customer.io/journeys/identifying-people/ (identifiers)
//   - https://docs.customer.io/journeys/attributes/ (attributes)
//
// sync/destinationtest/customerio is a local contract server of these
// endpoints.
package customerio
