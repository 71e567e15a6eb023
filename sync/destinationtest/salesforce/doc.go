// Package salesforce is a local contract server of the Salesforce APIs the
// salesforce destination (sync/destinations/salesforce) uses: one org
// holding Contacts, built from Salesforce's public API reference. It
// implements destinationtest.Vendor; New serves it for a test, Serve for a
// demo or a subprocess.
//
// # What it enforces
//
// OAuth 2.0 (POST /services/oauth2/token, form-encoded): the refresh-token
// grant (client_id, client_secret, refresh_token) and the JWT bearer grant
// (an RS256 assertion signed with the key JWTSettings hands out; iss the
// client id, sub the user, aud the server's URL, exp at most five minutes
// ahead). Refusals are answered 400 {"error", "error_description"} with
// Salesforce's codes (invalid_grant "expired access/refresh token",
// invalid_client_id, invalid_client, "audience is invalid", "user hasn't
// approved this consumer"). The token response carries instance_url (the
// server's URL). ExpireSessions ends every session, Revoke also the grant.
//
// Every /services/data/vNN.0 request (NN from 46 to 62) needs
// Authorization: Bearer with a live session — none is a violation, an
// expired one is answered 401 [{"message": "Session expired or invalid",
// "errorCode": "INVALID_SESSION_ID"}] — and is answered with
// Sforce-Limit-Info: api-usage=N/M. Past the daily allocation (SetDailyLimit)
// requests get 403 REQUEST_LIMIT_EXCEEDED with api-usage=M/M. The rate-limit
// signal (Kit faults and SetRateLimit) is the same 403 [{"errorCode":
// "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}] with
// the usage below the allocation, counted as throttled. Errors have the REST
// shape [{"message", "errorCode"}]; URIs over 16,384 bytes are refused (414).
//
//   - PATCH /composite/sobjects/Contact/{External ID field}: application/json
//     {"allOrNone", "records"} and nothing else; 1 to 200 records, each with
//     attributes.type Contact, no Id, the External ID, known fields whose
//     JSON values fit their types (a number for LTV__c, null to clear). An
//     unknown field is 400 INVALID_FIELD, a non-External-ID field in the URI
//     400 INVALID_FIELD (user errors, not violations). Results in request
//     order: {id, success, errors[{statusCode, message, fields}], created}.
//     Per record: REQUIRED_FIELD_MISSING (LastName on create, or cleared),
//     INVALID_EMAIL_ADDRESS, STRING_TOO_LONG, INVALID_FIELD_FOR_INSERT_UPDATE
//     (read-only fields), DUPLICATE_VALUE (an External ID twice in a request),
//     MISSING_ARGUMENT (no External ID value); allOrNone true rolls back.
//   - POST /composite/sobjects: the same body, records created; an External
//     ID another Contact holds is DUPLICATE_VALUE "duplicate value found:
//     External_Email__c duplicates value on record with id: 003…".
//   - DELETE /composite/sobjects?ids=…&allOrNone=…: 1 to 200 Ids; per Id
//     ENTITY_IS_DELETED, MALFORMED_ID, INVALID_CROSS_REFERENCE_KEY.
//   - GET /sobjects/Contact/{External ID or idLookup field}/{value}?fields=…:
//     200 the record, 404 NOT_FOUND, 300 and the record URLs when several
//     match (Email is an idLookup field, not unique).
//   - GET /sobjects/Contact/describe: name, type, length, createable,
//     updateable, nillable, defaultedOnCreate, externalId, idLookup, unique
//     of Id, FirstName, LastName (required), Name (read-only), Email, Phone,
//     HasOptedOutOfEmail, OwnerId, CreatedDate, External_Email__c (External
//     ID, unique) and LTV__c (double). Never faulted.
//   - Bulk API 2.0: POST /jobs/ingest {object, operation, externalIdFieldName,
//     contentType, lineEnding, columnDelimiter} and nothing else (insert,
//     upsert and delete jobs only, COMMA only); PUT /jobs/ingest/{id}/batches text/csv,
//     once, to an Open job, at most 100 MB, parsed strictly (the declared line
//     ending, rows as wide as the header; a delete job's only column is Id);
//     PATCH /jobs/ingest/{id} {"state": "UploadComplete"|"Aborted"}; GET
//     /jobs/ingest/{id}, which answers InProgress until the
//     SetPollsToComplete-th request (default 3), then JobComplete — or Failed
//     with errorMessage "InvalidBatch : Field name not found : X" when the
//     header names an unknown field; GET …/successfulResults/ (sf__Id,
//     sf__Created, the columns), …/failedResults/ (sf__Id, sf__Error
//     "CODE:message:fields --", the columns), …/unprocessedrecords/, only
//     once the job is finished, rows in reverse upload order. In job data an
//     empty cell leaves a field alone and #N/A clears it. Rows are applied
//     when the job is closed.
//
// Faults from the Kit apply to every data request but describe and the
// token endpoint: the throttle as above, 500, hangs and dropped connections;
// RejectRate answers FIELD_CUSTOM_VALIDATION_EXCEPTION per record,
// RetryableRecordRate UNABLE_TO_LOCK_ROW (Salesforce's transient error).
// Writes (upserts, deletes, closing a job) call the Kit's write hook.
//
// # What it does not enforce
//
// Only Contact exists. It does not check the payload limits of the REST API
// beyond 50 MB a body; strings for number fields are refused although
// Salesforce converts some; dates are not checked beyond RFC 3339 datetimes;
// duplicate rules, validation rules, triggers, field-level security, record
// types, SOQL, composite graphs, Bulk API 1.0, multipart job creation, other
// delimiters, the 10,000 bulk batches a day and the concurrent-request limit
// are not modelled, and a job accepts a single upload (a simplification).
//
// # Salesforce documentation followed
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
//   - https://help.salesforce.com/s/articleView?id=000386264&type=1 (URI and header length)
//   - https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm
package salesforce
