// Package hashing owns the normalization profiles that turn a trait into the
// hashed, normalized value an ad platform accepts (docs/hashing.md).
//
// A profile is a pure function of one canonical text value, written twice:
// Reference is the Go reference implementation, and SQL compiles the same
// rules through a Dialect so that the sync engine hashes IN THE WAREHOUSE and
// the plain value never leaves it. Both end in the lowercase hex SHA-256 of
// the normalized UTF-8 text; a value that normalizes to nothing (an empty
// e-mail, a phone without digits, a country that is not two letters) gives
// NULL, as does NULL. Tests check Reference against the vendors' published
// examples and every real engine against Reference on hostile values.
//
// Sources of the rules (read 2026-12):
//
//   - Google Data Manager API, "Format user data":
//     https://developers.google.com/data-manager/api/get-started/formatting
//     (e-mail: lower-case, trim all whitespace, remove dots before the @ of
//     gmail.com and googlemail.com addresses; phone: E.164 with the plus sign
//     and country code, e.g. (800)555-0100 → +18005550100; given and family
//     name: lower-case, trimmed; SHA-256, hex).
//   - Google Ads API, enhanced conversions / Customer Match "normalize and
//     hash": https://developers.google.com/google-ads/api/docs/conversions/upload-online
//     (trim, lower-case, E.164 phones such as +12125650000 and +442070313000).
//   - Meta Marketing API, "Customer File Custom Audiences" and "Custom
//     Audiences" (hashing and normalizing data):
//     https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences
//     and https://developers.facebook.com/docs/marketing-api/custom-audiences-targeting/
//     (SHA-256 only; hash("sha256", "mary@example.com") =
//     f1904cf1a9d73a55fa5de0ac823c4403ded71afd4c3248d00bdcd0866552bb79;
//     e-mail trimmed and lower-cased; phone digits only with the country code,
//     no symbols, letters or leading zeros; names lower-case without
//     punctuation; country the lower-case ISO 3166-1 alpha-2 code).
//
// The package imports nothing of the project, so models can check profile
// names while parsing; Dialect is the narrow part of warehouse.Dialect it
// needs.
package hashing
