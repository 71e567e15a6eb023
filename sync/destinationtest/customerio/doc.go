// Package customerio is a local contract server of the Customer.io Track
// API, the part the customerio destination (sync/destinations/customerio)
// uses: the v2 batch endpoint that identifies people, and the v1 endpoints
// that add people to and remove them from a manual segment. Tests and demos
// point the destination at it and then look at the people and the segment
// members it holds. It implements destinationtest.Vendor.
//
// It follows Customer.io's published Track API reference (OpenAPI
// "Customer.io Track API", https://docs.customer.io/api/track/, also served
// as https://docs.customer.io/integrations/api/track/):
//
//   - https://docs.customer.io/integrations/api/track/#tag/track_v2 and the
//     batch operation (POST /api/v2/batch): {"batch": [entry…]}, each entry
//     {"type": "person", "identifiers": {one of id, email, phone, cio_id},
//     "action": "identify", "attributes": {…}}; at most 500 kB per request
//     and 32 kB per entry; 200 with an empty object when every entry was
//     accepted, 207 {"errors": [{"batch_index", "reason", "field",
//     "message"}]} for the entries that were not (the others are applied);
//     400 {"errors": [{"reason", "field", "message"}]} for a malformed
//     request;
//   - https://docs.customer.io/integrations/api/track/#tag/Track-Segments
//     (POST /api/v1/segments/{segment_id}/add_customers and
//     /remove_customers): {"ids": [1 to 1000 strings]}, id_type=id (the
//     default), email or cio_id; ids that match nobody are ignored; only
//     manual segments take members; 400 {"meta": {"errors": […]}};
//   - authentication: HTTP basic with the workspace's Site ID as the user
//     name and its Track API key as the password; 401 otherwise;
//   - limits (the reference's "Customer limits"): a person's ID at most 150
//     bytes, attribute names 150 bytes, attribute values 1000 bytes, 300
//     attributes per identify call; a rate limit of 1000 requests per second
//     ("Rate Limits"), answered with 429 when exceeded;
//   - email identifiers are case-insensitive; an attribute set to null or
//     to an empty string is removed (documented for objects and
//     relationships in the v2 reference, and applied to people here);
//     attributes._update true updates an existing person only.
//
// A request that breaks the contract (an unknown path or method, a
// content-type other than application/json, a body that is not the
// documented shape, an empty or oversize batch, an entry over 32 kB, an
// entry without type, identifiers or action, with several identifiers or
// with members the reference does not list, a person action other than
// identify, ids missing or more than 1000) is answered the way Customer.io
// answers a malformed request and recorded through Kit.Violation, which
// fails the test. Entry-level contract breaks are answered in the 207 shape
// (the rest of the batch is applied) and recorded as violations too. Data
// that breaks the customer limits is answered per entry in the 207 shape
// and counted as rejected, not as a violation: the data, not the client, is
// at fault.
//
// What it does not model: objects, deliveries, relationships and every
// person action but identify (they are refused as violations, since the
// destination never sends them); the phone identifier (reported as not
// enabled in the workspace); merging of people who share an email and an
// id; the US/EU redirect; the processing delay of the real API (changes
// are visible as soon as the request is answered); data-driven segments.
// It is stricter than Customer.io in refusing unknown members, which the
// real API may ignore. Customer.io documents no transient per-entry error,
// so Faults.RetryableRecordRate is answered like RejectRate (a 207 entry
// error) and counted as VendorStats.Retried.
//
// Faults come out in Customer.io's shape: 429 with Retry-After and a JSON
// body, 500s, hanging and dropped connections, and per-entry 207 errors.
package customerio
