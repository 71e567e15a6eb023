// Package googledatamanager is the "google_data_manager" destination: it
// adds the sync's records to a Customer Match list as audience members of
// hashed user identifiers through the Data Manager API v1, and in mirror
// mode removes leavers.
//
// # Requests
//
// POST /v1/audienceMembers:ingest and POST /v1/audienceMembers:remove
// take {destinations: [{operatingAccount: {accountType, accountId},
// loginAccount?, productDestinationId}], audienceMembers: [{userData:
// {userIdentifiers: [{emailAddress} | {phoneNumber} | {address:
// {givenName, familyName, regionCode, postalCode}}]}}], consent?:
// {adUserData, adPersonalization}, termsOfService?, encoding: HEX}, at most
// 10,000 members of at most 10 identifiers (this connector sends up to
// three: one e-mail, one phone, one address), and answer {requestId}.
// GET /v1/requestStatus:retrieve?requestId= answers
// requestStatusPerDestination[{requestStatus, errorInfo,
// audienceMembersIngestionStatus: {userDataIngestionStatus:
// {recordCount, userIdentifierCount, uploadMatchRateRange}}}]. Field names
// follow google/ads/datamanager/v1 (googleapis, Apache-2.0) in proto3 JSON.
//
// # Jobs
//
// The destination is a destination.AsyncDestination. Submit sends the
// remove request, then the ingest request; the job ID names both request
// IDs and the records refused at submission (a 400 whose field violations
// name audience_members[n]), so that Poll, in this process or in the one
// that resumes after a crash, rebuilds every result from the batch alone.
// A confirmed member's identifiers are kept as its remote ID, so a change
// removes the identifiers it no longer has and a removal sends what was
// added.
//
// # Auth
//
// OAuth2 service account (golang.org/x/oauth2/jwt): the key file's
// client_email and private_key sign a JWT grant for the datamanager scope,
// exchanged at token_uri; the token is cached and fetched again after a
// 401.
package googledatamanager
