// Package httpdest is the HTTP machinery every vendor destination shares:
// a Client with a base URL (regional hosts, a proxy, a local contract
// server), credentials (bearer token, basic, an API-key header, OAuth2
// refresh-token and client-credentials grants with cached, refreshed
// tokens), a timeout per request, the classification of failures —
// retryable (429, 5xx, timeouts, with the wait the vendor's rate-limit
// signal asks for: Retry-After, RateLimit-*, X-RateLimit-*, HubSpot's
// policyName, Salesforce's REQUEST_LIMIT_EXCEEDED and Sforce-Limit-Info),
// rejected, or fatal for the run (a refused or revoked token) — and debug
// logs of every request and response with secrets redacted.
package httpdest
