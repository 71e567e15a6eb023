package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/sync/destination"
)

// ErrPlanStale is returned when a saved plan no longer applies: the sync's
// state moved since it was made, or the sync's definition changed.
var ErrPlanStale = errors.New("the plan is stale")

// StateVersion identifies one committed state of a sync: it changes with
// every commit to the sync's cdp_sync_state (see docs/sync.md, "Saved
// plans"). Runs and Committed are exact for every change the engine makes;
// Rows and the digests also catch edits made outside it.
type StateVersion struct {
	// Runs counts the sync's rows in cdp_sync_runs: every run (normal,
	// --full, --baseline, the one that marks a crashed run) inserts its row
	// under the lock before it commits anything.
	Runs int64 `json:"runs"`
	// LastRun is the newest of those runs ("" when none).
	LastRun string `json:"last_run"`
	// Committed sums added+changed+removed+failed over those runs; each
	// batch commit raises it in the same transaction as its state rows.
	Committed int64 `json:"committed"`
	// Rows counts the sync's rows in cdp_sync_state; Digest is an
	// order-independent digest of their (key, fields_hash, remote_id): two
	// sums of 32-bit MD5 prefixes, exact integer arithmetic on every dialect.
	Rows   int64  `json:"rows"`
	Digest string `json:"digest"`
	// Pending counts records of asynchronous jobs not yet seen through.
	Pending int64 `json:"pending"`
}

// Definition is what a saved plan's records depend on in the sync's YAML.
type Definition struct {
	Mode            string   `json:"mode"`
	Key             string   `json:"key"`
	Fields          []string `json:"fields"` // field=trait (|hash profile), in order
	NullValues      string   `json:"null_values"`
	Destination     string   `json:"destination"`
	DestinationType string   `json:"destination_type"`
	// RequiresConsent and OnWithdrawal change who is in the snapshot and
	// what a withdrawal sends (empty and omitted when the sync sets none,
	// so plans saved before consent existed keep their fingerprint).
	RequiresConsent []string `json:"requires_consent,omitempty"`
	OnWithdrawal    string   `json:"on_withdrawal,omitempty"`
	// Suppressions lists the project's suppression lists, which apply to
	// every sync.
	Suppressions []string `json:"suppressions,omitempty"`
}

// Fingerprint is the SHA-256 of the definition's JSON.
func (d Definition) Fingerprint() string {
	b, _ := json.Marshal(d)
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// PlannedRecord is one record of a saved plan, as it will be delivered.
type PlannedRecord struct {
	Op         destination.Op `json:"op"`
	Key        string         `json:"key"`
	Fields     map[string]any `json:"fields"`
	FieldsHash string         `json:"fields_hash,omitempty"`
	RemoteID   string         `json:"remote_id,omitempty"`
}

// SavedSync is the full diff of one sync, with what it was computed against.
type SavedSync struct {
	Sync        string          `json:"sync"`
	Definition  Definition      `json:"definition"`
	Fingerprint string          `json:"fingerprint"`
	State       StateVersion    `json:"state"`
	Full        bool            `json:"full,omitempty"`
	Counts      Counts          `json:"counts"`
	Records     []PlannedRecord `json:"records"`
}

// SavedPlan is the file `cdp sync plan --out` writes and `cdp sync run
// --plan` applies.
type SavedPlan struct {
	Format  int          `json:"format"` // 1
	Project string       `json:"project"`
	Created time.Time    `json:"created_at"`
	Syncs   []*SavedSync `json:"syncs"`
}

// PlanFormat is the current SavedPlan.Format.
const PlanFormat = 1

// DefinitionOf returns the parts of the sync's definition a plan depends on.
func (e *Engine) DefinitionOf(s *models.Sync) Definition {
	d := Definition{Mode: s.Mode, Key: s.Key, NullValues: s.NullValues, Destination: s.Destination, Fields: []string{},
		RequiresConsent: s.RequiresConsent}
	if s.OnWithdrawal != models.WithdrawalRemove {
		d.OnWithdrawal = s.OnWithdrawal
	}
	for _, l := range e.Project.Suppressions {
		d.Suppressions = append(d.Suppressions, l.Name)
	}
	for _, f := range s.Fields {
		ref := f.Field + "=" + f.Trait
		if f.Hash != "" {
			ref += "|" + f.Hash // a changed profile changes every value
		}
		d.Fields = append(d.Fields, ref)
	}
	if dest := e.Project.Destination(s.Destination); dest != nil {
		d.DestinationType = dest.Type
	}
	return d
}

// Save computes the sync's whole diff, to be applied later by Run with
// RunOptions.Plan. The state version is read before and after the diff; a
// run that commits in between makes Save compute again.
func (e *Engine) Save(ctx context.Context, s *models.Sync, o PlanOptions) (*SavedSync, error) {
	if err := ensureState(ctx, e.W, e.Tables); err != nil {
		return nil, err
	}
	table := e.Tables.SyncDiff(s.Name) + "_plan"
	defer e.W.Exec(context.WithoutCancel(ctx), e.Tables.D.DropTable(e.Tables.Q(table)))
	def := e.DefinitionOf(s)
	for attempt := 0; attempt < 5; attempt++ {
		before, err := e.StateVersion(ctx, s.Name)
		if err != nil {
			return nil, err
		}
		c, err := e.prepare(ctx, s, table, o.Full)
		if err != nil {
			return nil, err
		}
		out := &SavedSync{Sync: s.Name, Definition: def, Fingerprint: def.Fingerprint(), State: before,
			Full: o.Full, Counts: c, Records: []PlannedRecord{}}
		err = e.stream(ctx, s, table, opsOf(s), func(r destination.Record, hash string) (bool, error) {
			out.Records = append(out.Records, PlannedRecord{Op: r.Op, Key: r.Key, Fields: r.Fields, FieldsHash: hash, RemoteID: r.RemoteID})
			return true, nil
		})
		if err != nil {
			return nil, err
		}
		after, err := e.StateVersion(ctx, s.Name)
		if err != nil {
			return nil, err
		}
		if after == before {
			return out, nil
		}
	}
	return nil, fmt.Errorf("sync %s: its state kept moving while planning (a run is delivering); plan again when it finished", s.Name)
}

// StateVersion reads the sync's current state version.
func (e *Engine) StateVersion(ctx context.Context, sync string) (StateVersion, error) {
	var v StateVersion
	rows, err := e.W.Query(ctx, stateVersionSQL(e.Tables, sync))
	if err != nil {
		return v, fmt.Errorf("sync %s: read state version: %w", sync, err)
	}
	defer rows.Close()
	vals := make([]any, 7)
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if !rows.Next() {
		return v, fmt.Errorf("sync %s: read state version: no row", sync)
	}
	if err := rows.Scan(ptrs...); err != nil {
		return v, err
	}
	var nums [5]int64
	for i, k := range []int{0, 2, 3, 6} {
		if _, err := fmt.Sscan(str(vals[k]), &nums[i]); err != nil {
			return v, fmt.Errorf("sync %s: read state version: %w", sync, err)
		}
	}
	v.Runs, v.LastRun, v.Committed, v.Rows, v.Pending = nums[0], str(vals[1]), nums[1], nums[2], nums[3]
	v.Digest = str(vals[4]) + "-" + str(vals[5])
	return v, rows.Err()
}

// stateVersionSQL reads, in one statement, the run bookkeeping and the
// digest of the sync's state rows (all as text, so every driver scans it
// alike).
func stateVersionSQL(t layout.Tables, sync string) string {
	d := t.D
	q := d.QuoteString(sync)
	part := func(col string) string {
		v := d.CastText(col)
		return fmt.Sprintf("CASE WHEN %[1]s IS NULL THEN '~' ELSE %[2]s || ':' || %[1]s END", v, d.CastText("LENGTH("+v+")"))
	}
	row := strings.Join([]string{part("key"), part("fields_hash"), part("remote_id")}, " || '|' || ")
	word := func(salt string) string {
		return fmt.Sprintf("%s(SUM(%s), 0)", "COALESCE",
			d.Cast(d.HashFraction(d.QuoteString(salt)+" || "+row)+" * 4294967296", models.TypeInteger))
	}
	return fmt.Sprintf(`SELECT
  (SELECT %[1]s FROM %[2]s WHERE sync = %[3]s),
  (SELECT run_id FROM %[2]s WHERE sync = %[3]s ORDER BY started_at DESC, run_id DESC LIMIT 1),
  (SELECT %[4]s FROM %[2]s WHERE sync = %[3]s),
  %[5]s, %[6]s, %[7]s,
  (SELECT %[1]s FROM %[8]s WHERE sync = %[3]s)
FROM %[9]s WHERE sync = %[3]s`,
		d.CastText("COUNT(*)"), t.Q(t.SyncRuns()), q,
		d.CastText("COALESCE(SUM(COALESCE(added, 0) + COALESCE(changed, 0) + COALESCE(removed, 0) + COALESCE(failed, 0)), 0)"),
		d.CastText("COUNT(*)"), d.CastText(word("a")), d.CastText(word("b")),
		t.Q(t.SyncPending()), t.Q(t.SyncState()))
}

// CheckPlan says whether a saved plan still applies to the sync (nil) or
// why not (ErrPlanStale). Run checks again under the sync's lock.
func (e *Engine) CheckPlan(ctx context.Context, s *models.Sync, p *SavedSync) error {
	if err := ensureState(ctx, e.W, e.Tables); err != nil {
		return err
	}
	return e.checkSaved(ctx, s, p)
}

// checkSaved refuses a saved plan whose definition or state version no
// longer matches; it runs under the sync's lock, before the run's record.
func (e *Engine) checkSaved(ctx context.Context, s *models.Sync, p *SavedSync) error {
	if p.Sync != s.Name {
		return fmt.Errorf("sync %s: the plan is for sync %q", s.Name, p.Sync)
	}
	if def := e.DefinitionOf(s); def.Fingerprint() != p.Fingerprint {
		return fmt.Errorf("sync %s: %w: the sync's definition changed since the plan (%s); plan again",
			s.Name, ErrPlanStale, definitionChange(p.Definition, def))
	}
	v, err := e.StateVersion(ctx, s.Name)
	if err != nil {
		return err
	}
	if v.Pending > 0 {
		return fmt.Errorf("sync %s: %w: %d records of asynchronous jobs are pending; `cdp sync run %s` sees them through, then plan again",
			s.Name, ErrPlanStale, v.Pending, s.Name)
	}
	if v != p.State {
		return fmt.Errorf("sync %s: %w: its state moved since the plan (%s); plan again",
			s.Name, ErrPlanStale, stateChange(p.State, v))
	}
	return nil
}

// definitionChange names what differs between two definitions.
func definitionChange(was, now Definition) string {
	var out []string
	add := func(name, a, b string) {
		if a != b {
			out = append(out, fmt.Sprintf("%s %q → %q", name, a, b))
		}
	}
	add("mode", was.Mode, now.Mode)
	add("key", was.Key, now.Key)
	add("fields", strings.Join(was.Fields, ","), strings.Join(now.Fields, ","))
	add("null_values", was.NullValues, now.NullValues)
	add("destination", was.Destination, now.Destination)
	add("destination type", was.DestinationType, now.DestinationType)
	add("requires_consent", strings.Join(was.RequiresConsent, ","), strings.Join(now.RequiresConsent, ","))
	add("on_withdrawal", was.OnWithdrawal, now.OnWithdrawal)
	add("suppress", strings.Join(was.Suppressions, ","), strings.Join(now.Suppressions, ","))
	if len(out) == 0 {
		return "fingerprint differs"
	}
	return strings.Join(out, "; ")
}

// stateChange says how a state version moved.
func stateChange(was, now StateVersion) string {
	switch {
	case now.Runs != was.Runs:
		last := now.LastRun
		if last == "" {
			last = "none"
		}
		return fmt.Sprintf("%d run(s) since, the last %s", now.Runs-was.Runs, last)
	case now.Committed != was.Committed:
		return fmt.Sprintf("run %s committed more batches", now.LastRun)
	default:
		return fmt.Sprintf("cdp_sync_state changed outside a run: %d rows, %d when planned", now.Rows, was.Rows)
	}
}

// savedSource feeds a saved plan's records to the deliverer, remembering
// each for the committer exactly as pull does for a diff.
func savedSource(s *models.Sync, p *SavedSync, cm *committer) func() (destination.Record, bool, error) {
	i := 0
	return func() (destination.Record, bool, error) {
		if i >= len(p.Records) {
			return destination.Record{}, false, nil
		}
		pr := p.Records[i]
		i++
		r := destination.Record{Op: pr.Op, Key: pr.Key, Fields: pr.Fields, RemoteID: pr.RemoteID, Hash: pr.FieldsHash}
		if r.Fields == nil {
			r.Fields = map[string]any{}
		}
		cm.remember(r, pr.FieldsHash)
		return payload(s, cm.e.deliverable(s, cm.eraseAs, r)), true, nil
	}
}

// savedCounts is the saved plan's counts with max_removals evaluated as
// the project declares it now (the state, so Delivered, did not move).
func savedCounts(s *models.Sync, p *SavedSync) (Counts, error) {
	c := p.Counts
	var err error
	if c.MaxRemovals, err = removalLimit(s.MaxRemovals, c.Delivered); err != nil {
		return c, err
	}
	c.RemovalBlocked = c.MaxRemovals >= 0 && c.Remove+c.Unsubscribe > c.MaxRemovals
	return c, nil
}

// ReadPlan decodes a saved plan; numbers come back as int64 when integral
// (as the warehouse gave them), float64 otherwise.
func ReadPlan(b []byte) (*SavedPlan, error) {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var p SavedPlan
	if err := dec.Decode(&p); err != nil {
		return nil, err
	}
	if p.Format != PlanFormat {
		return nil, fmt.Errorf("plan format %d, this cdp reads %d", p.Format, PlanFormat)
	}
	for _, s := range p.Syncs {
		if s == nil {
			return nil, errors.New("plan holds an empty sync")
		}
		for _, r := range s.Records {
			for k, v := range r.Fields {
				r.Fields[k] = plainJSON(v)
			}
		}
	}
	return &p, nil
}

// plainJSON turns json.Number into int64 or float64, recursively.
func plainJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = plainJSON(e)
		}
	case []any:
		for i, e := range x {
			x[i] = plainJSON(e)
		}
	}
	return v
}

// Summary is the printable plan of a saved sync: its counts and up to
// samples records per operation, in key order (as Plan gives them).
func (ss *SavedSync) Summary(s *models.Sync, samples int) *Plan {
	p := &Plan{Sync: ss.Sync, Mode: s.Mode, Destination: s.Destination, Counts: ss.Counts, Samples: []Sample{}}
	perOp := map[destination.Op]int{}
	for _, r := range ss.Records {
		if perOp[r.Op] < samples {
			perOp[r.Op]++
			p.Samples = append(p.Samples, Sample{Op: r.Op, Key: r.Key, Fields: r.Fields})
		}
	}
	return p
}
