package customerio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"

	"github.com/cdpkit/cdp/sync/destinationtest"
)

// entryError is one element of a 207 answer's "errors".
type entryError struct {
	BatchIndex int    `json:"batch_index"`
	Reason     string `json:"reason"`
	Field      string `json:"field"`
	Message    string `json:"message"`
}

// personEntry is one entry of a batch, as the reference lists its members.
type personEntry struct {
	Type             *string                    `json:"type"`
	Identifiers      map[string]json.RawMessage `json:"identifiers"`
	Action           *string                    `json:"action"`
	Attributes       map[string]any             `json:"attributes"`
	Timestamp        *json.Number               `json:"timestamp"`
	CioRelationships json.RawMessage            `json:"cio_relationships"`
}

// identify is a decoded identify entry.
type identify struct {
	kind, value string // the identifier
	attrs       map[string]any
}

// decoded is one entry after validation: an identify, or the error it is
// answered with.
type decoded struct {
	op  *identify
	err *entryError
}

// batch handles POST /api/v2/batch.
func (s *Server) batch(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBatchBytes+1))
	if err != nil {
		return // the client went away
	}
	if len(body) > MaxBatchBytes {
		s.Violation(w, errorsBody("batch", "request larger than 500kb"), "batch request over %d bytes", MaxBatchBytes)
		return
	}
	var req struct {
		Batch []json.RawMessage `json:"batch"`
	}
	if err := strictDecode(body, &req); err != nil {
		s.Violation(w, errorsBody("batch", err.Error()), "batch body: %v", err)
		return
	}
	if len(req.Batch) == 0 {
		s.Violation(w, errorsBody("batch", "batch is missing or empty"), `batch body: "batch" missing or empty`)
		return
	}
	entries := make([]decoded, len(req.Batch))
	for i, raw := range req.Batch {
		entries[i] = s.decodeEntry(i, raw)
	}
	if s.Fault(w, r, throttle) {
		return
	}
	errs := s.applyBatch(entries, len(body))
	s.Wrote()
	if len(errs) == 0 {
		writeJSON(w, http.StatusOK, struct{}{})
		return
	}
	writeJSON(w, http.StatusMultiStatus, map[string]any{"errors": errs})
}

// applyBatch applies the valid entries that draw no record fault and
// returns the errors of the others.
func (s *Server) applyBatch(entries []decoded, size int) []entryError {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []entryError
	for i, e := range entries {
		if e.err != nil {
			errs = append(errs, *e.err)
			continue
		}
		if reject, retry := s.RecordFault(); reject || retry {
			errs = append(errs, entryError{BatchIndex: i, Reason: "invalid", Field: "identifiers",
				Message: "the entry was refused (injected fault)"})
			continue
		}
		if ee := s.store.identify(e.op); ee != nil {
			ee.BatchIndex = i
			errs = append(errs, *ee)
			s.Count(func(st *destinationtest.VendorStats) { st.Rejected++ })
		}
	}
	s.batches = append(s.batches, BatchRequest{Entries: len(entries), Bytes: size, Errors: len(errs)})
	return errs
}

// decodeEntry validates one entry. Contract breaks are recorded as
// violations; data beyond the customer limits is a plain entry error.
func (s *Server) decodeEntry(i int, raw json.RawMessage) decoded {
	violate := func(field, format string, args ...any) decoded {
		msg := fmt.Sprintf(format, args...)
		s.Report("batch[%d]: %s: %s", i, field, msg)
		return decoded{err: &entryError{BatchIndex: i, Reason: "invalid", Field: field, Message: msg}}
	}
	if len(raw) > MaxEntryBytes {
		return violate("batch", "entry of %d bytes, over the 32kb limit", len(raw))
	}
	var e personEntry
	if err := strictDecode(raw, &e); err != nil {
		return violate("batch", "%v", err)
	}
	switch {
	case e.Type == nil:
		return violate("type", "missing")
	case *e.Type != "person":
		return violate("type", "%q: only person entries are modelled", *e.Type)
	case e.Action == nil:
		return violate("action", "missing")
	case *e.Action != "identify":
		return violate("action", "%q: only identify is modelled (the destination never deletes people)", *e.Action)
	case e.Identifiers == nil:
		return violate("identifiers", "missing")
	case len(e.Identifiers) != 1:
		return violate("identifiers", "pass exactly one of id, email, phone or cio_id, not %d", len(e.Identifiers))
	}
	var kind, value string
	for k, v := range e.Identifiers {
		kind = k
		if err := json.Unmarshal(v, &value); err != nil || value == "" {
			return violate("identifiers."+k, "must be a non-empty string")
		}
	}
	switch kind {
	case "id", "email", "cio_id":
	case "phone":
		return dataError(i, "identifiers.phone", "phone is not enabled as an identifier in this workspace")
	default:
		return violate("identifiers", "unknown identifier %q (want id, email, phone or cio_id)", kind)
	}
	if len(value) > MaxIDBytes {
		return dataError(i, "identifiers."+kind, fmt.Sprintf("longer than %d bytes", MaxIDBytes))
	}
	if d := checkAttributes(i, e.Attributes); d.err != nil {
		return d
	}
	return decoded{op: &identify{kind: kind, value: value, attrs: e.Attributes}}
}

// checkAttributes applies the customer limits to an entry's attributes.
func checkAttributes(i int, attrs map[string]any) decoded {
	if len(attrs) > MaxAttributes {
		return dataError(i, "attributes", fmt.Sprintf("%d attributes, more than %d", len(attrs), MaxAttributes))
	}
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if len(k) > MaxNameBytes {
			return dataError(i, "attributes", fmt.Sprintf("attribute name longer than %d bytes", MaxNameBytes))
		}
		n := 0
		if sv, ok := attrs[k].(string); ok {
			n = len(sv)
		} else {
			b, _ := json.Marshal(attrs[k])
			n = len(b)
		}
		if n > MaxValueBytes {
			return dataError(i, "attributes."+k, fmt.Sprintf("value longer than %d bytes", MaxValueBytes))
		}
	}
	return decoded{}
}

func dataError(i int, field, msg string) decoded {
	return decoded{err: &entryError{BatchIndex: i, Reason: "invalid", Field: field, Message: msg}}
}

// identify applies one identify entry to the store.
func (st *store) identify(op *identify) *entryError {
	p := st.lookup(op.kind, op.value)
	// identifiers set through attributes must be free
	for _, k := range []string{"email", "id"} {
		v, ok := op.attrs[k]
		if !ok || v == nil || v == "" {
			continue
		}
		sv, ok := v.(string)
		if !ok {
			return &entryError{Reason: "invalid", Field: "attributes." + k, Message: "must be a string"}
		}
		if o := st.lookup(k, sv); o != nil && o != p {
			return &entryError{Reason: "invalid", Field: "attributes." + k, Message: k + " already belongs to another person"}
		}
	}
	if p == nil {
		if op.kind == "cio_id" || op.attrs["_update"] == true {
			return nil // dropped, as documented
		}
		p = st.create(op.kind, op.value)
	}
	for k, v := range op.attrs {
		clear := v == nil || v == ""
		switch {
		case k == "_update":
		case k == "email" || k == "id":
			if !clear {
				_ = st.setIdentifier(p, k, v.(string))
			}
		case clear:
			delete(p.Attributes, k)
		default:
			p.Attributes[k] = v
		}
	}
	return nil
}

// strictDecode decodes one JSON value, refusing unknown members and
// trailing data; numbers stay json.Number.
func strictDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}
