// Package intercom is a local contract server of Intercom's REST API for
// the intercom destination (sync/destinations/intercom): the contact
// endpoints it calls, built from Intercom's public API reference and its
// MIT-licensed OpenAPI descriptions (the schemas below are a small subset
// written for this server). It implements destinationtest.Vendor.
//
// # Endpoints
//
//	POST   /contacts                      create a contact (user or lead)
//	PUT    /contacts/{id}                 update a contact
//	GET    /contacts/{id}                 a contact
//	POST   /contacts/search               search contacts
//	POST   /contacts/{id}/tags            tag a contact {"id": <tag id>}
//	DELETE /contacts/{id}/tags/{tag_id}   untag a contact
//	GET    /data_attributes?model=contact the data attributes
//
// # What it enforces
//
// Every request: a known endpoint and method (others 404, as Intercom
// answers unsupported methods); Authorization: Bearer <token> (a missing or
// malformed header is a violation; a wrong or revoked token is answered 401
// {"code": "unauthorized", "message": "Access Token Invalid"}, as Intercom
// does); Intercom-Version among 2.7–2.16 (missing or unknown: a violation,
// since the connector pins one); Accept with application/json (406
// otherwise); Content-Type application/json for bodies (415) and a JSON body.
//
// Create and update bodies follow the Create/Update Contact Request
// Payloads: only their members (role, external_id, email, phone, name,
// avatar, signed_up_at, last_seen_at, owner_id, unsubscribed_from_emails,
// email_verified, custom_attributes); a create needs email, external_id or
// role; custom_attributes is an object of scalars. Unknown members are
// violations. Values of the wrong JSON type are answered 400 type_mismatch;
// null clears a nullable attribute (name, phone, …) and a custom attribute.
// Custom attributes must exist (and not be archived) in the data model:
// others are answered 400 parameter_invalid "Custom attribute 'x' does not
// exist", and values must fit the attribute's data type (string, integer,
// float, boolean, date as Unix seconds). A user whose email or external_id
// another user has is answered 409 conflict "A contact matching those
// details already exists with id=…". An update of an unknown contact is
// 404 "User Not Found".
//
// Search bodies follow the search request schema: query (a single filter
// {field, operator, value} or an AND/OR group of at most 15, nested at most
// two levels), pagination {per_page 1–150, starting_after}, sort. Fields
// id, email (case-insensitive), external_id, role, name, phone, tag_id and
// custom_attributes.* are searchable here. SetSearchDelay hides contacts
// younger than a delay from search, as Intercom's documented contact
// creation delay does, so the connector's 409 path can be tested.
//
// Tagging an unknown contact is 404 "User Not Found", an unknown tag 404
// "Resource Not Found".
//
// # Rate limits and faults
//
// Requests are counted in fixed windows (default 1,667 per 10 seconds:
// Intercom's 10,000 a minute per app, spread over 10-second windows; see
// SetRateLimit). Every authenticated answer carries X-RateLimit-Limit,
// X-RateLimit-Remaining and X-RateLimit-Reset (Unix seconds); over the
// limit it is 429 {"code": "rate_limit_exceeded", "message": "Exceeded rate
// limit of N in 10_seconds"}. The kit's fault schedule comes out in that
// shape too: an injected 429 has Remaining 0 and a Reset at the schedule's
// Retry-After (or now), an injected 500 a server_error list. Record faults
// are drawn per write (create, update, tag, untag): a rejection is 400
// parameter_invalid, a transient failure 503 service_unavailable; neither
// is applied.
//
// # What it does not enforce
//
// Payload-size limits (Intercom documents none; bodies over 1 MiB are
// refused here), the workspace-wide 25,000 a minute, email format
// validation, owner_id naming a real admin, search operators on dates and
// numbers, sort orders, leads' duplicate-email rules beyond "leads may
// share an email", the per-version differences of the schemas (owner_id
// is accepted as integer or string in every version), and every other
// endpoint of the API.
//
// # Documentation followed
//
//   - https://developers.intercom.com/docs/references/rest-api/api.intercom.io/contacts/createcontact
//   - https://developers.intercom.com/docs/references/rest-api/api.intercom.io/contacts/updatecontact
//   - https://developers.intercom.com/docs/references/rest-api/api.intercom.io/contacts/searchcontacts
//   - https://developers.intercom.com/docs/references/rest-api/api.intercom.io/tags/attachtagtocontact
//   - https://developers.intercom.com/docs/references/rest-api/api.intercom.io/tags/detachtagfromcontact
//   - https://developers.intercom.com/docs/references/rest-api/api.intercom.io/data-attributes/listdataattributes
//   - https://developers.intercom.com/docs/references/rest-api/errors/rate-limiting
//   - https://developers.intercom.com/docs/references/rest-api/errors/error-codes
//   - https://developers.intercom.com/docs/references/rest-api/errors/http-responses
//   - https://github.com/intercom/Intercom-OpenAPI (descriptions/2.11 … 2.16)
//
// New serves one on 127.0.0.1 for a test; Serve on any address for demos
// and subprocess tests.
package intercom
