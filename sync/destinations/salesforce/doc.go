// Package salesforce is the "salesforce" destination: it writes each
// record to a Salesforce object (Contact unless `sobject` says), matched by
// an External ID field that receives the sync key, and in mirror mode
// deletes the records that leave the audience.
//
// # Modes and what they send
//
//	upsert  add, change  PATCH /services/data/vNN.0/composite/sobjects/{sobject}/{external_id_field}
//	                     {"allOrNone": false, "records": [{"attributes": {"type": sobject},
//	                      external_id_field: key, field: value…}]}, ≤ 200 records
//	mirror  add, change  the same
//	        remove       DELETE /services/data/vNN.0/composite/sobjects?ids=Id,Id…&allOrNone=false, ≤ 200 Ids
//	insert  add          POST /services/data/vNN.0/composite/sobjects {"allOrNone": false, "records": […]}, ≤ 200
//
// Each upsert's result (in request order: id, success, errors[{statusCode,
// message, fields}], created) becomes the record's result, with the
// Salesforce Id as Result.RemoteID; the engine keeps it and hands it back
// for removals, which are deleted by that Id. A removal whose Id is unknown
// is looked up once by its external ID (GET
// /services/data/vNN.0/sobjects/{sobject}/{external_id_field}/{key}?fields=Id):
// none found means there is nothing to delete (confirmed), several found is
// a rejection. Deleting a record already deleted (ENTITY_IS_DELETED) is
// confirmed.
//
// An erase (cdp forget, every mode) is deleted exactly as a removal is, in
// the same DELETE request (bulk: the delete job), and its receipt is the
// deleted Id; one whose record Salesforce does not hold (none found by
// external ID, or ENTITY_IS_DELETED) is confirmed with the receipt "not
// found: nothing to erase". A removal has no receipt. Deleted records go to
// the Recycle Bin, which Salesforce empties after 15 days. There is no
// unsubscribe: the object has no consent field the destination knows.
//
// Insert mode creates records and never changes one: a record refused with
// DUPLICATE_VALUE on the External ID field already exists (created by an
// earlier, perhaps crashed, run or by someone else) and counts as
// delivered, with the Id the message names. That needs the External ID
// field to be unique, which CheckFields checks. Update mode is not offered:
// sObject Collections cannot update by External ID without creating.
//
// A null field (null_values: send) is sent as JSON null, which clears it.
// A record with a NaN or infinite number, or a field named Id or
// attributes, is rejected without being sent.
//
// # Bulk API 2.0 (bulk: true)
//
// Each batch, up to 10,000 records (the default batch_size with bulk),
// becomes ingest jobs: an upsert job (insert mode: an insert job) for adds
// and changes and, in mirror mode, a delete job for removals. Submit creates each job (POST
// /services/data/vNN.0/jobs/ingest {object, operation, externalIdFieldName,
// contentType: CSV, lineEnding: LF}), uploads its CSV (PUT
// …/jobs/ingest/{id}/batches, text/csv; the external ID column first, then
// the fields in mapping order; an absent field is an empty cell, which
// leaves it unchanged, a null one #N/A, which clears it) and closes it
// (PATCH …/jobs/ingest/{id} {"state": "UploadComplete"}). Poll asks GET
// …/jobs/ingest/{id} until every job is JobComplete, Failed or Aborted, then
// reads …/successfulResults/ (sf__Id, sf__Created) and …/failedResults/
// (sf__Id, sf__Error "CODE:message:fields --") and maps the rows back by
// external ID (upserts) or Id (deletions), since Bulk API keeps no order.
// A record no results file reports was not processed: retried, or rejected
// with the job's errorMessage when the job Failed. The job ID the engine
// keeps is "sfbulk:" + JSON of the job ids and the Ids Submit looked up.
// Apply submits and polls every poll_interval until done, for callers that
// do not handle jobs.
//
// # Authentication
//
// OAuth 2.0 at {login_url}/services/oauth2/token, one of:
//
//   - JWT bearer flow (client_id, username, private_key): an RS256 JWT with
//     iss client_id, sub username, aud login_url and exp three minutes ahead,
//     posted as grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer;
//   - refresh-token flow (client_id, client_secret, refresh_token).
//
// Requests go to base_url when it is set (a proxy, a contract server), else
// to the instance_url of the token response. The token is cached; a 401
// (INVALID_SESSION_ID) drops it and the request is sent once more with a
// new one. A grant Salesforce refuses (invalid_grant: a revoked refresh
// token, an unapproved app) and a second 401 stop the run (fatal).
//
// # Failures
//
// 403 REQUEST_LIMIT_EXCEEDED is Salesforce's rate-limit signal: retried
// after backoff and counted as throttling (reported with status 429) —
// unless Sforce-Limit-Info says the org's daily allocation is used up
// (api-usage=N/N), which stops the run. Other 401 and 403 are fatal, 5xx
// and timeouts retried, other 4xx reject the batch. Per record,
// UNABLE_TO_LOCK_ROW (and REQUEST_RUNNING_TOO_LONG, SERVER_UNAVAILABLE) are
// retried; every other error code is a rejection carrying Salesforce's
// message. When a batch needs several requests (upsert, lookups, delete) and
// one fails after another was answered, the records already settled keep
// their results and the rest take the failure.
//
// Salesforce takes no idempotency key; upserts by External ID and deletions
// by Id are idempotent, so a resent batch does no harm.
//
// # Schema check
//
// CheckFields (cdp sync check) reads GET /services/data/vNN.0/sobjects/{sobject}/describe:
// every mapped field must exist, be createable or updateable and fit its
// trait's type; external_id_field must be an External ID (and unique in
// insert mode); and every field
// required to create a record (createable, not nillable, not defaulted, such
// as a Contact's LastName) must be mapped.
//
// # Vendor documentation
//
//   - https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-sobjects-collections-upsert.html
//   - https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-sobjects-collections-delete.html
//   - https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_upsert.htm
//   - https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_describe.htm
//   - https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
//   - https://developer.salesforce.com/docs/platform/api-asynch/guide/create-job.html
//   - https://developer.salesforce.com/docs/platform/api-asynch/guide/upload-job-data.html
//   - https://developer.salesforce.com/docs/platform/api-asynch/guide/close-job.html
//   - https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/get_job_info.htm
//   - https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/get_job_successful_results.htm
//   - https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/get_job_failed_results.htm
//   - https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/datafiles_csv_valid_record_rows.htm
//   - https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm&type=5
//   - https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_refresh_token_flow.htm&type=5
//   - https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm
//
// sync/destinationtest/salesforce is a local contract server of these APIs.
package salesforce
