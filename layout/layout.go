// Package layout names every table and view the CDP writes in the target
// schema (see docs/tables.md). Shared code asks layout, never spells names.
package layout

import (
	"strconv"

	"github.com/cdpkit/cdp/warehouse"
)

// Tables names the CDP's relations for one project and target.
type Tables struct {
	D      warehouse.Dialect
	Schema string
	Entity string
}

// Q returns the qualified, quoted name of a relation in the target schema.
func (t Tables) Q(name string) string { return t.D.Table(t.Schema, name) }

// Identifiers is `<e>_identifiers`: one row per normalized identifier.
func (t Tables) Identifiers() string { return t.Entity + "_identifiers" }

// Audit is `<e>_identity_audit`: dropped links and excluded values.
func (t Tables) Audit() string { return t.Entity + "_identity_audit" }

// Profiles is `<e>_profiles`: one row per profile with every trait.
func (t Tables) Profiles() string { return t.Entity + "_profiles" }

// Segments is `<e>_segments`: one row per (segment, profile).
func (t Tables) Segments() string { return t.Entity + "_segments" }

// SourceView is `<e>_src_<source>`: a source's rows with normalized identifiers.
func (t Tables) SourceView(source string) string { return t.Entity + "_src_" + source }

// IdentityNodes is `<e>_identity_nodes`: the identity graph's state, one row
// per identifier ever seen with its node_id and raw (unlimited) component.
func (t Tables) IdentityNodes() string { return t.Entity + "_identity_nodes" }

// IdentityNodeSources is `<e>_identity_node_sources`: one row per
// (identifier, source) with the earliest and latest row time.
func (t Tables) IdentityNodeSources() string { return t.Entity + "_identity_node_sources" }

// IdentityEdges is `<e>_identity_edges`: one row per link between two
// identifiers, with its tier and earliest time.
func (t Tables) IdentityEdges() string { return t.Entity + "_identity_edges" }

// Watermarks is `<e>_watermarks`: per source, the latest row time the last
// successful complete run read, with that run's as-of and model fingerprint.
func (t Tables) Watermarks() string { return t.Entity + "_watermarks" }

// ChangedProfiles is `<e>__changed_profiles`: the profile IDs an incremental
// identity build changed; the profiles node reads and drops it.
func (t Tables) ChangedProfiles() string { return t.Entity + "__changed_profiles" }

// Work is a scratch table of the identity build, `<e>__id_<name>`.
func (t Tables) Work(name string) string { return t.Entity + "__id_" + name }

// Runs is `cdp_runs`: one row per `cdp run`.
func (t Tables) Runs() string { return "cdp_runs" }

// SourceIdentColumn is the view column holding a source's i-th normalized identifier.
func SourceIdentColumn(i int) string { return "_cdp_id_" + strconv.Itoa(i) }

// SourceRawColumn is the view column holding a source's i-th identifier as
// written (text), read by the audit of invalid values.
func SourceRawColumn(i int) string { return "_cdp_raw_" + strconv.Itoa(i) }

// SourceInvalidColumn is the view column holding why the normalizer rejected
// a source's i-th identifier (NULL when kept or missing).
func SourceInvalidColumn(i int) string { return "_cdp_invalid_" + strconv.Itoa(i) }

// SourceRegionColumn is the view column holding the region a source's i-th
// identifier (a phone number) is parsed in: the row's `country:` or the id
// type's default_country.
func SourceRegionColumn(i int) string { return "_cdp_region_" + strconv.Itoa(i) }

// PhoneMap is `<e>_phone_map_<source>_<version>`: every (raw value, region)
// pair of a source's phone identifiers with its E.164 number or the reason it
// is invalid, for one version of libphonenumber's metadata.
func (t Tables) PhoneMap(source, version string) string {
	return t.Entity + "_phone_map_" + source + "_" + version
}

// PhoneWork is a scratch table of the phone normalization,
// `<e>__ph_<stage>`, on warehouses without materialized WITH queries.
func (t Tables) PhoneWork(stage string) string { return t.Entity + "__ph_" + stage }

// SourceTSColumn is the view column holding a source row's timestamp (or NULL).
const SourceTSColumn = "_cdp_ts"

// ProfileIDColumn is the column that carries a row's profile in mapped sources.
const ProfileIDColumn = "_cdp_profile_id"

// Consent is `<e>_consent`: one row per (profile, consent purpose) with
// its state, when and where it was decided, and whether syncs may use it.
func (t Tables) Consent() string { return t.Entity + "_consent" }

// ConsentRejected is `<e>_consent_rejected`: consent statements whose value
// reads as neither granted nor denied.
func (t Tables) ConsentRejected() string { return t.Entity + "_consent_rejected" }

// ConsentWork is `<e>__consent_statements`, the consent node's scratch table.
func (t Tables) ConsentWork() string { return t.Entity + "__consent_statements" }

// Suppressed is `<e>_suppressed`: one row per (profile, suppression list,
// id type) that no sync may deliver to.
func (t Tables) Suppressed() string { return t.Entity + "_suppressed" }

// SuppressList is `<e>_suppress_<name>`: a suppression file's identifiers,
// normalized, loaded by every run.
func (t Tables) SuppressList(name string) string { return t.Entity + "_suppress_" + name }

// SyncState is `cdp_sync_state`: one row per (sync, key) delivered.
func (t Tables) SyncState() string { return "cdp_sync_state" }

// SyncRuns is `cdp_sync_runs`: one row per sync run.
func (t Tables) SyncRuns() string { return "cdp_sync_runs" }

// SyncRejections is `cdp_sync_rejections`: records that failed in a run.
func (t Tables) SyncRejections() string { return "cdp_sync_rejections" }

// SyncLocks is `cdp_sync_locks`: one lease row per sync.
func (t Tables) SyncLocks() string { return "cdp_sync_locks" }

// SyncPending holds the records of asynchronous destination jobs that were
// submitted and not yet confirmed, so a later run resumes polling them.
func (t Tables) SyncPending() string { return "cdp_sync_pending" }

// SyncDiff is `cdp_sync_diff_<sync>`: the planned changes of the current run.
func (t Tables) SyncDiff(sync string) string { return "cdp_sync_diff_" + sync }

// ErasureRequests is `cdp_erasure_requests`: the ledger of `cdp forget`,
// one row per request (the identifier only as a salted hash).
func (t Tables) ErasureRequests() string { return "cdp_erasure_requests" }

// ErasureTargets is `cdp_erasure_targets`: one row per (request, sync) that
// had delivered the person, with the destination's status and receipt.
func (t Tables) ErasureTargets() string { return "cdp_erasure_targets" }

// Tombstones is `cdp_tombstones`: the salted hashes of forgotten
// identifiers, which source views exclude from every run.
func (t Tables) Tombstones() string { return "cdp_tombstones" }

// PrivacySalt is `cdp_privacy_salt`: the project's one salt of the
// tombstone hashes.
func (t Tables) PrivacySalt() string { return "cdp_privacy_salt" }
