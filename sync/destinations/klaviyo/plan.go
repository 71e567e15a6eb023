package klaviyo

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/cdpkit/cdp/sync/destination"
)

// plan is what one batch sends, derived from the batch alone so that Poll
// (possibly in a later process) finds the same jobs Submit created.
type plan struct {
	results []destination.Result // index-aligned; records rejected before sending
	jobs    []job                // bulk import jobs, in submission order
	removes []int                // records leaving the list (mirror)
	unsubs  []int                // records unsubscribed from email marketing
	erases  []int                // records whose profiles are deleted
	clears  map[int]clearing     // records whose null fields are cleared after the import
}

// job is one bulk import request: the records it carries, in payload order.
type job struct {
	records []int
	body    []byte
}

// Payload limits; variables so tests can lower them.
var (
	maxPayload     = MaxPayload
	maxProfileSize = MaxProfileSize
)

// plan encodes a batch: each add or change becomes a profile of a bulk
// import job (a new job whenever the next profile would take the payload
// past 5 MB), each mirror remove a list removal; records that cannot be
// sent are rejected here.
func (d *Destination) plan(batch []destination.Record) (*plan, error) {
	if len(batch) > d.caps.MaxBatch {
		return nil, &destination.BatchError{Err: d.errorf("batch of %d records exceeds batch_size %d", len(batch), d.caps.MaxBatch)}
	}
	p := &plan{results: make([]destination.Result, len(batch)), clears: map[int]clearing{}}
	reject := func(i int, format string, args ...any) {
		p.results[i] = destination.Result{Err: d.errorf("record %q: "+format, append([]any{batch[i].Key}, args...)...)}
	}
	var profiles []json.RawMessage
	var idx []int
	for i, r := range batch {
		switch r.Op {
		case destination.OpRemove:
			if d.mode != "mirror" {
				reject(i, "remove is only sent in mirror mode (Klaviyo profiles are never deleted)")
				continue
			}
			p.removes = append(p.removes, i)
		case destination.OpUnsubscribe:
			p.unsubs = append(p.unsubs, i)
		case destination.OpErase:
			p.erases = append(p.erases, i)
		case destination.OpAdd, destination.OpChange:
			b, clr, err := encodeProfile(r)
			if err != nil {
				reject(i, "%v", err)
				continue
			}
			if len(b) > maxProfileSize {
				reject(i, "the profile is %d bytes; Klaviyo takes at most %d per profile", len(b), maxProfileSize)
				continue
			}
			if !clr.empty() {
				p.clears[i] = clr
			}
			profiles = append(profiles, b)
			idx = append(idx, i)
		default:
			reject(i, "%v", destination.CheckOp(r.Op))
		}
	}
	p.jobs = d.split(profiles, idx)
	return p, nil
}

// split cuts profiles into jobs whose bodies stay within the payload limit.
func (d *Destination) split(profiles []json.RawMessage, idx []int) []job {
	var jobs []job
	head, tail := d.envelope()
	size := len(head) + len(tail)
	start := 0
	for i := range profiles {
		add := len(profiles[i])
		if i > start {
			add++ // the comma
		}
		if i > start && size+add > maxPayload {
			jobs = append(jobs, d.job(head, tail, profiles[start:i], idx[start:i]))
			start, size, add = i, len(head)+len(tail), len(profiles[i])
		}
		size += add
	}
	if start < len(profiles) {
		jobs = append(jobs, d.job(head, tail, profiles[start:], idx[start:]))
	}
	return jobs
}

// envelope returns the request body around the profiles: the job's type,
// and the list relationship when list_id is set.
func (d *Destination) envelope() (head, tail []byte) {
	head = []byte(`{"data":{"type":"profile-bulk-import-job","attributes":{"profiles":{"data":[`)
	tail = []byte(`]}}`)
	if d.listID != "" {
		id, _ := json.Marshal(d.listID)
		tail = append(tail, fmt.Sprintf(`,"relationships":{"lists":{"data":[{"type":"list","id":%s}]}}`, id)...)
	}
	return head, append(tail, `}}`...)
}

func (d *Destination) job(head, tail []byte, profiles []json.RawMessage, idx []int) job {
	var b bytes.Buffer
	b.Write(head)
	for i, p := range profiles {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(p)
	}
	b.Write(tail)
	return job{records: append([]int(nil), idx...), body: b.Bytes()}
}
