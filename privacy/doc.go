// Package privacy keeps the CDP's erasure ledger (GDPR article 17): `cdp
// forget` records a request with the identifier only as a salted hash
// (Forget), the next complete run finds the person's profile, tombstones
// every identifier it held and lists the syncs that had delivered them
// (Apply), source views then drop every row carrying a tombstoned
// identifier (FilterSQL), and the sync engine sends each destination its
// erase primitive, recording the vendor's receipt (Targets*). Status reads
// the ledger back; Report lists the source rows that still hold a
// person's identifiers.
package privacy
