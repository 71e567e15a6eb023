package customerio

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// segmentRequest is a decoded add_customers or remove_customers request.
type segmentRequest struct {
	segment int
	action  string
	idType  string
	ids     []string
}

// segment handles POST /api/v1/segments/{segment_id}/add_customers and
// /remove_customers.
func (s *Server) segment(w http.ResponseWriter, r *http.Request) {
	req, err := s.decodeSegment(r)
	if err != nil {
		if !errors.Is(err, errClientGone) {
			s.Violation(w, metaBody(err.Error()), "%s %s: %v", r.Method, r.URL.Path, err)
		}
		return
	}
	s.mu.Lock()
	seg := s.store.segments[req.segment]
	s.mu.Unlock()
	switch {
	case seg == nil:
		writeJSON(w, http.StatusBadRequest, json.RawMessage(metaBody(fmt.Sprintf("segment %d does not exist", req.segment))))
		return
	case !seg.manual:
		writeJSON(w, http.StatusBadRequest, json.RawMessage(metaBody(fmt.Sprintf("segment %d is not a manual segment", req.segment))))
		return
	}
	if s.Fault(w, r, throttle) {
		return
	}
	s.applySegment(req)
	s.Wrote()
	writeJSON(w, http.StatusOK, struct{}{})
}

// errClientGone marks a body that could not be read: no violation.
var errClientGone = errors.New("client went away")

// decodeSegment validates the path, id_type and body of a segment request.
func (s *Server) decodeSegment(r *http.Request) (*segmentRequest, error) {
	rest := strings.TrimPrefix(r.URL.Path, "/api/v1/segments/")
	idText, action, ok := strings.Cut(rest, "/")
	if !ok || (action != "add_customers" && action != "remove_customers") {
		return nil, fmt.Errorf("unknown segment endpoint %q (want add_customers or remove_customers)", r.URL.Path)
	}
	id, err := strconv.ParseInt(idText, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("segment_id %q is not an integer", idText)
	}
	idType := r.URL.Query().Get("id_type")
	switch idType {
	case "":
		idType = "id"
	case "id", "email", "cio_id":
	default:
		return nil, fmt.Errorf("id_type %q: want id, email or cio_id", idType)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBatchBytes+1))
	if err != nil {
		return nil, errClientGone
	}
	var b struct {
		IDs []json.RawMessage `json:"ids"`
	}
	if err := strictDecode(body, &b); err != nil {
		return nil, fmt.Errorf("body: %v", err)
	}
	if len(b.IDs) == 0 || len(b.IDs) > MaxSegmentIDs {
		return nil, fmt.Errorf(`body: "ids" must hold 1 to %d ids, not %d`, MaxSegmentIDs, len(b.IDs))
	}
	req := &segmentRequest{segment: int(id), action: action, idType: idType, ids: make([]string, len(b.IDs))}
	for i, raw := range b.IDs {
		if err := json.Unmarshal(raw, &req.ids[i]); err != nil {
			return nil, fmt.Errorf(`body: ids[%d] is not a string`, i)
		}
	}
	return req, nil
}

// applySegment adds or removes the people the ids name; ids that name
// nobody, or do not look like id_type (an email without @), are ignored.
func (s *Server) applySegment(req *segmentRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seg := s.store.segments[req.segment]
	for _, id := range req.ids {
		if req.idType == "email" && !strings.Contains(id, "@") {
			continue
		}
		p := s.store.lookup(req.idType, id)
		if p == nil {
			continue
		}
		if req.action == "add_customers" {
			seg.members[p.CioID] = true
		} else {
			delete(seg.members, p.CioID)
		}
	}
	s.segCalls = append(s.segCalls, SegmentRequest{Segment: req.segment, Action: req.action, IDType: req.idType, IDs: len(req.ids)})
}
