package googledatamanager

// specDoc is the reference page's body.
const specDoc = `Keeps a Customer Match list (Google Ads, Display & Video 360) equal to the segment (mode ` + "`mirror`" + `)
or adds to it (mode ` + "`upsert`" + `) through the [Data Manager API](https://developers.google.com/data-manager/api/reference/rest).
Destination fields are the member's user identifiers: ` + "`email_address`" + ` (hash profile ` + "`google_email`" + `),
` + "`phone_number`" + ` (` + "`google_phone`" + `, E.164), and an address made of ` + "`address.given_name`" + ` and
` + "`address.family_name`" + ` (` + "`google_name`" + `) with ` + "`address.region_code`" + ` (ISO 3166-1 alpha-2) and
` + "`address.postal_code`" + ` in clear — all four or none. PII mapped without its [hashing profile](../hashing.md) is
refused by ` + "`cdp validate`" + `; another profile is a warning. Keep PII out of the sync's key (` + "`key: profile_id`" + `).

` + "```yaml" + `
destinations:
  - name: google_vip
    type: google_data_manager
    credentials_file: secrets/datamanager-sa.json   # service-account JSON key
    operating_account_id: "1234567890"               # Google Ads customer ID, no dashes
    audience_id: "8123456789"                        # the user list
    ad_user_data: CONSENT_GRANTED
    ad_personalization: CONSENT_GRANTED
syncs:
  - name: vip_to_google
    segment: vip
    destination: google_vip
    mode: mirror
    key: profile_id
    fields:
      email_address: { trait: email, hash: google_email }
      phone_number:  { trait: phone, hash: google_phone }
` + "```" + `

Every request carries a bearer token of the service account: a JWT signed (RS256) with the key file's private key is
exchanged at its ` + "`token_uri`" + ` (scope ` + "`https://www.googleapis.com/auth/datamanager`" + `); the token is
cached until it expires. A batch is one ` + "`POST /v1/audienceMembers:remove`" + ` (leavers, and the identifiers a
changed record no longer has) and one ` + "`POST /v1/audienceMembers:ingest`" + ` with ` + "`destinations`" + `
(operating and login account, ` + "`productDestinationId`" + `), ` + "`consent`" + `, ` + "`termsOfService`" + ` when set
and ` + "`encoding: HEX`" + `. Both answer a ` + "`requestId`" + `: the batch is an asynchronous job, polled with
` + "`GET /v1/requestStatus:retrieve`" + ` every ` + "`poll_interval`" + ` until it leaves PROCESSING; its records are
delivered only then, and a run that crashed resumes polling the same requests. A request that FAILED refuses its records
(retried by the next run); PARTIAL_SUCCESS confirms them, since Data Manager does not say which members failed (the count
goes to the match report). A 400 INVALID_ARGUMENT whose field violations name members refuses those members, and the rest
is sent again. The ingest status's ` + "`uploadMatchRateRange`" + ` is the run's match rate in ` + "`cdp sync history`" + `.
429 RESOURCE_EXHAUSTED is throttling and 5xx are retried; 401 (after one new token) and 403 stop the run.

A withdrawn consent and ` + "`cdp forget`" + ` both take the person out of the list with the same
[` + "`audienceMembers:remove`" + `](https://developers.google.com/data-manager/api/reference/rest/v1/audienceMembers/remove) as a removal, in
any mode, with the identifiers last sent; once the request is done the receipt is its ` + "`requestId`" + ` and status. A person
whose identifiers were never delivered is confirmed without a request. Data Manager does not say whether the hashes matched
anyone.`
