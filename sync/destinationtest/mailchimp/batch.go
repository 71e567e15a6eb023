package mailchimp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// batchBody is the body of POST /3.0/lists/{list_id}.
type batchBody struct {
	Members        *[]json.RawMessage `json:"members"`
	UpdateExisting *bool              `json:"update_existing"`
	SyncTags       *bool              `json:"sync_tags"`
}

// memberIn is one entry of members, with every property Mailchimp
// documents for it; any other is refused.
type memberIn struct {
	EmailAddress         *string         `json:"email_address"`
	EmailType            string          `json:"email_type"`
	Status               string          `json:"status"`
	StatusIfNew          string          `json:"status_if_new"`
	MergeFields          json.RawMessage `json:"merge_fields"`
	Interests            map[string]bool `json:"interests"`
	Language             string          `json:"language"`
	VIP                  *bool           `json:"vip"`
	Location             json.RawMessage `json:"location"`
	MarketingPermissions json.RawMessage `json:"marketing_permissions"`
	IPSignup             string          `json:"ip_signup"`
	TimestampSignup      string          `json:"timestamp_signup"`
	IPOpt                string          `json:"ip_opt"`
	TimestampOpt         string          `json:"timestamp_opt"`
	Tags                 []string        `json:"tags"`
}

// memberReq is a member entry that satisfies the contract.
type memberReq struct {
	email, status, statusIfNew string
	merge                      map[string]any
	tags                       []string
}

// batchOpts are the batch's switches.
type batchOpts struct {
	updateExisting, syncTags, skipMerge, skipDuplicates bool
}

// memberError is one entry of the response's errors.
type memberError struct {
	EmailAddress string `json:"email_address"`
	Error        string `json:"error"`
	ErrorCode    string `json:"error_code"`
	Field        string `json:"field"`
	FieldMessage string `json:"field_message"`
}

// Error codes of the batch response.
const (
	codeGeneric = "ERROR_GENERIC"
	codeExists  = "ERROR_CONTACT_EXISTS"
)

// batch serves POST /3.0/lists/{list_id}: batch subscribe or unsubscribe.
func (s *Server) batch(w http.ResponseWriter, r *http.Request, l *list) {
	reqs, opts, ok := s.readBatch(w, r)
	if !ok {
		return
	}
	if s.Kit.Fault(w, r, throttle) {
		return
	}
	s.mu.Lock()
	resp := s.applyBatch(l, reqs, opts)
	s.mu.Unlock()
	s.Kit.Wrote()
	writeJSON(w, resp)
}

// readBatch reads and checks the request; false when it was answered.
func (s *Server) readBatch(w http.ResponseWriter, r *http.Request) ([]memberReq, batchOpts, bool) {
	var opts batchOpts
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != "application/json" {
		s.violation(w, http.StatusBadRequest, "Bad Request", "Your request could not be processed.", nil,
			"content-type %q, want application/json", r.Header.Get("Content-Type"))
		return nil, opts, false
	}
	for _, p := range []struct {
		name string
		dst  *bool
	}{{"skip_merge_validation", &opts.skipMerge}, {"skip_duplicate_check", &opts.skipDuplicates}} {
		if v := r.URL.Query().Get(p.name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				s.invalid(w, p.name, "Schema describes boolean, "+strconv.Quote(v)+" found instead")
				return nil, opts, false
			}
			*p.dst = b
		}
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, opts, false // the client went away
	}
	if len(raw) > maxBody {
		s.violation(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large", "The request body is too large.", nil,
			"body larger than %d bytes", maxBody)
		return nil, opts, false
	}
	var body batchBody
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		s.violation(w, http.StatusBadRequest, "JSON Parse Error", detailJSON, nil, "body: %v", err)
		return nil, opts, false
	}
	if _, err := dec.Token(); err != io.EOF {
		s.violation(w, http.StatusBadRequest, "JSON Parse Error", detailJSON, nil, "body: data after the JSON object")
		return nil, opts, false
	}
	switch {
	case body.Members == nil:
		s.invalid(w, "members", "Required fields were not provided: members")
		return nil, opts, false
	case len(*body.Members) == 0:
		s.invalid(w, "members", "Schema describes array, at least 1 item, 0 found")
		return nil, opts, false
	case len(*body.Members) > MaxMembers:
		s.invalid(w, "members", fmt.Sprintf("Schema describes array, maximum %d items, %d found", MaxMembers, len(*body.Members)))
		return nil, opts, false
	}
	opts.updateExisting = body.UpdateExisting != nil && *body.UpdateExisting
	opts.syncTags = body.SyncTags != nil && *body.SyncTags
	reqs := make([]memberReq, len(*body.Members))
	for i, m := range *body.Members {
		req, field, msg := decodeMember(m)
		if msg != "" {
			s.invalid(w, fmt.Sprintf("members[%d]%s", i, field), msg)
			return nil, opts, false
		}
		reqs[i] = req
	}
	return reqs, opts, true
}

// decodeMember checks one members entry; a non-empty msg names what is
// wrong with field (a suffix such as ".status").
func decodeMember(raw json.RawMessage) (req memberReq, field, msg string) {
	var in memberIn
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return req, "", err.Error()
	}
	if in.EmailAddress == nil || *in.EmailAddress == "" {
		return req, ".email_address", "Required fields were not provided: email_address"
	}
	for name, v := range map[string]string{"status": in.Status, "status_if_new": in.StatusIfNew} {
		if v != "" && !slices.Contains(writeStatuses, v) {
			return req, "." + name, fmt.Sprintf("Value %q is not one of %s", v, strings.Join(writeStatuses, ", "))
		}
	}
	if in.Status == "" && in.StatusIfNew == "" {
		return req, ".status", "Required fields were not provided: status (or status_if_new)"
	}
	req = memberReq{email: *in.EmailAddress, status: in.Status, statusIfNew: in.StatusIfNew, tags: in.Tags}
	if t := bytes.TrimSpace(in.MergeFields); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
		if t[0] != '{' {
			return req, ".merge_fields", "Schema describes object, " + string(t[:1]) + "… found instead"
		}
		if err := json.Unmarshal(t, &req.merge); err != nil {
			return req, ".merge_fields", err.Error()
		}
		for tag, v := range req.merge {
			if v == nil {
				return req, ".merge_fields." + tag, "null found; Mailchimp clears a merge field with an empty string"
			}
		}
	}
	for i, t := range in.Tags {
		if strings.TrimSpace(t) == "" {
			return req, fmt.Sprintf(".tags[%d]", i), "a tag name is empty"
		}
	}
	return req, "", ""
}

// applyBatch applies the members that draw no record fault and pass
// Mailchimp's per-member checks; s.mu is held.
func (s *Server) applyBatch(l *list, reqs []memberReq, opts batchOpts) map[string]any {
	created, updated := []any{}, []any{}
	errs := []memberError{}
	seen := map[string]bool{}
	for _, req := range reqs {
		reject, retry := s.Kit.RecordFault()
		hash := SubscriberHash(req.email)
		var e *memberError
		switch {
		case reject:
			e = &memberError{Error: req.email + " looks fake or invalid, please enter a real email address.", ErrorCode: codeGeneric}
		case retry:
			e = &memberError{Error: req.email + " has signed up to a lot of lists very recently; we're not allowing more signups for now",
				ErrorCode: codeGeneric}
		case seen[hash] && opts.skipDuplicates:
			continue
		case seen[hash]:
			e = &memberError{Error: "Duplicate email address " + req.email + " in the request; send it once or set skip_duplicate_check",
				ErrorCode: codeGeneric, Field: "email_address"}
		case l.deleted[hash]:
			e = &memberError{Error: req.email + " was permanently deleted and cannot be re-imported. The contact must re-subscribe to get back on the list.",
				ErrorCode: codeGeneric}
		case !validEmail(req.email):
			e = &memberError{Error: req.email + " looks fake or invalid, please enter a real email address.", ErrorCode: codeGeneric,
				Field: "email_address", FieldMessage: "Please enter a valid email address"}
		}
		seen[hash] = true
		if e == nil {
			var isNew bool
			isNew, e = l.upsert(hash, req, opts)
			if e == nil {
				if isNew {
					created = append(created, l.memberJSON(l.members[hash]))
				} else {
					updated = append(updated, l.memberJSON(l.members[hash]))
				}
				continue
			}
		}
		e.EmailAddress = req.email
		errs = append(errs, *e)
	}
	return map[string]any{"new_members": created, "updated_members": updated, "errors": errs,
		"total_created": len(created), "total_updated": len(updated), "error_count": len(errs), "_links": []any{}}
}

// upsert adds or updates one member; an archived member counts as new.
func (l *list) upsert(hash string, req memberReq, opts batchOpts) (isNew bool, e *memberError) {
	m, exists := l.members[hash]
	isNew = !exists || m.Status == StatusArchived
	if !isNew && !opts.updateExisting {
		return false, &memberError{Error: req.email + " is already a list member. Use PUT to insert or update list members.", ErrorCode: codeExists}
	}
	status := req.status
	if isNew && req.statusIfNew != "" {
		status = req.statusIfNew
	}
	if isNew && status == "" {
		return false, &memberError{Error: "The status of a new member is required.", ErrorCode: codeGeneric, Field: "status",
			FieldMessage: "Please choose subscribed, unsubscribed, cleaned, pending or transactional"}
	}
	merge := map[string]any{}
	if exists {
		for k, v := range m.MergeFields {
			merge[k] = v
		}
	}
	for tag, v := range req.merge {
		f, ok := l.field(tag)
		if !ok {
			return false, invalidMerge(tag, "Merge field "+tag+" does not exist in this audience")
		}
		val, err := mergeValue(f, v)
		if err != nil {
			return false, invalidMerge(tag, err.Error())
		}
		if val == "" {
			delete(merge, tag)
		} else {
			merge[tag] = val
		}
	}
	if !opts.skipMerge {
		for _, f := range l.fields {
			if _, ok := merge[f.Tag]; f.Required && !ok {
				return false, invalidMerge(f.Tag, "Please enter a value")
			}
		}
	}
	if !exists {
		m = &Member{ID: hash, Email: req.email}
		l.members[hash] = m
	}
	if status != "" && (isNew || opts.updateExisting) {
		m.Status = status
	}
	m.MergeFields, m.LastChanged = merge, time.Now()
	l.addTags(m, req.tags, opts.syncTags)
	return isNew, nil
}

func invalidMerge(tag, msg string) *memberError {
	return &memberError{Error: "Your merge fields were invalid.", ErrorCode: codeGeneric, Field: tag, FieldMessage: msg}
}

// validEmail is a loose check: one @, something before it, a dot after it.
func validEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && strings.Contains(domain, ".") && !strings.ContainsAny(domain, "@ ") &&
		!strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".") && !strings.Contains(local, " ")
}
