package klaviyo

import (
	"net/http"
	"strings"
	"time"
)

// Endpoints of consent and erasure, each with its own rate limit.
const (
	// EndpointDeletion is POST /api/data-privacy-deletion-jobs (Request
	// Profile Deletion).
	EndpointDeletion = "request_profile_deletion"
	// EndpointUnsubscribe is POST /api/profile-subscription-bulk-delete-jobs
	// (Bulk Unsubscribe Profiles).
	EndpointUnsubscribe = "bulk_unsubscribe_profiles"
)

// MaxUnsubscribe is the most profiles one Bulk Unsubscribe Profiles
// request takes.
const MaxUnsubscribe = 100

// Consent values of a profile's email marketing subscription.
const (
	ConsentUnsubscribed = "UNSUBSCRIBED"
)

func init() {
	routes["api/data-privacy-deletion-jobs"] = map[string]*endpoint{
		"POST": {name: EndpointDeletion, handle: (*Server).requestDeletion}}
	routes["api/profile-subscription-bulk-delete-jobs"] = map[string]*endpoint{
		"POST": {name: EndpointUnsubscribe, handle: (*Server).bulkUnsubscribe}}
}

// privacyLimits are the documented limits of the privacy endpoints:
// deletion 3/s burst, 60/m steady; unsubscribe 75/s, 700/m.
var privacyLimits = map[string]Limit{
	EndpointDeletion:    {Burst: 3, Steady: 60},
	EndpointUnsubscribe: {Burst: 75, Steady: 700},
}

// requestDeletion is POST /api/data-privacy-deletion-jobs: {data: {type:
// data-privacy-deletion-job, attributes: {profile: {data: {type: profile,
// attributes: {email | phone_number}} | {type: profile, id}}}}}, exactly
// one identifier. Every profile it names is deleted (after the 202, which
// has no body; the deletion is asynchronous at Klaviyo, at once here).
// An identifier no profile has is answered 202 too.
func (s *Server) requestDeletion(_ *http.Request, _ []string, body []byte) (action, *apiError) {
	doc, e := decode(body)
	if e != nil {
		return nil, e
	}
	var v validator
	top := v.object(doc, "", "document", "data")
	v.require(top, "", "data")
	data := v.object(top["data"], "/data", "data-privacy-deletion-job", "type", "attributes")
	v.require(data, "/data", "type", "attributes")
	v.kind(data, "/data", "data-privacy-deletion-job")
	attrs := v.object(data["attributes"], "/data/attributes", "data-privacy-deletion-job", "profile")
	v.require(attrs, "/data/attributes", "profile")
	prof := v.object(attrs["profile"], "/data/attributes/profile", "profile", "data")
	v.require(prof, "/data/attributes/profile", "data")
	const ptr = "/data/attributes/profile/data"
	ref := v.object(prof["data"], ptr, "profile", "type", "id", "attributes")
	v.require(ref, ptr, "type")
	v.kind(ref, ptr, "profile")
	var by, value string
	n := 0
	if id, ok := ref["id"]; ok {
		by, value = "id", v.str(id, ptr+"/id", false)
		n++
	}
	if a, ok := ref["attributes"]; ok {
		am := v.object(a, ptr+"/attributes", "profile", "email", "phone_number")
		for _, k := range []string{"email", "phone_number"} {
			if x, ok := am[k]; ok {
				by, value = k, v.str(x, ptr+"/attributes/"+k, false)
				n++
			}
		}
	}
	if v.err == nil && n != 1 {
		v.fail(ptr, "Exactly one of email, phone_number or id must be provided; got %d.", n)
	}
	if v.err != nil {
		return nil, v.err
	}
	return func(w http.ResponseWriter) {
		s.mu.Lock()
		for id, p := range s.profiles {
			match := id == value
			if by != "id" {
				got, _ := p.attrs[by].(string)
				match = strings.EqualFold(got, value)
			}
			if match {
				s.eraseLocked(p)
			}
		}
		s.mu.Unlock()
		s.Wrote()
		w.WriteHeader(http.StatusAccepted)
	}, nil
}

// eraseLocked deletes a profile: from the profiles, the email index and
// every list; its email is recorded as erased. s.mu is held.
func (s *Server) eraseLocked(p *profile) {
	delete(s.profiles, p.id)
	if email, _ := p.attrs["email"].(string); email != "" {
		delete(s.byEmail, strings.ToLower(email))
		s.erased[strings.ToLower(email)] = true
	}
	for _, members := range s.lists {
		delete(members, p.id)
	}
}

// bulkUnsubscribe is POST /api/profile-subscription-bulk-delete-jobs:
// {data: {type: profile-subscription-bulk-delete-job, attributes:
// {profiles: {data: [{type: profile, attributes: {email, subscriptions:
// {email: {marketing: {consent: UNSUBSCRIBED}}}}}]}}, relationships:
// {list: {data: {type: list, id}}}}}, 1 to 100 profiles. Each profile's
// email marketing consent becomes UNSUBSCRIBED (a profile Klaviyo does
// not have is created, then unsubscribed) and it leaves the list when one
// is given. The answer is 202 without a body.
func (s *Server) bulkUnsubscribe(_ *http.Request, _ []string, body []byte) (action, *apiError) {
	doc, e := decode(body)
	if e != nil {
		return nil, e
	}
	var v validator
	top := v.object(doc, "", "document", "data")
	v.require(top, "", "data")
	const job = "profile-subscription-bulk-delete-job"
	data := v.object(top["data"], "/data", job, "type", "attributes", "relationships")
	v.require(data, "/data", "type", "attributes")
	v.kind(data, "/data", job)
	attrs := v.object(data["attributes"], "/data/attributes", job, "profiles")
	v.require(attrs, "/data/attributes", "profiles")
	profs := v.object(attrs["profiles"], "/data/attributes/profiles", "profiles", "data")
	items := v.array(profs["data"], "/data/attributes/profiles/data")
	if v.err == nil && (len(items) == 0 || len(items) > MaxUnsubscribe) {
		v.fail("/data/attributes/profiles/data", "Between 1 and %d profiles are accepted per request; got %d.", MaxUnsubscribe, len(items))
	}
	var emails []string
	for i, it := range items {
		ptr := "/data/attributes/profiles/data/" + itoa(i)
		m := v.object(it, ptr, "profile", "type", "attributes")
		v.require(m, ptr, "type", "attributes")
		v.kind(m, ptr, "profile")
		a := v.object(m["attributes"], ptr+"/attributes", "profile", "email", "phone_number", "subscriptions")
		v.require(a, ptr+"/attributes", "email")
		email := v.str(a["email"], ptr+"/attributes/email", false)
		if _, phone := a["phone_number"]; phone && v.err == nil {
			v.fail(ptr+"/attributes/phone_number", "SMS unsubscription is not modelled by this contract server.")
		}
		if sub, ok := a["subscriptions"]; ok {
			sp := ptr + "/attributes/subscriptions"
			sm := v.object(sub, sp, "subscriptions", "email")
			em := v.object(sm["email"], sp+"/email", "email", "marketing")
			mm := v.object(em["marketing"], sp+"/email/marketing", "marketing", "consent")
			if c := v.str(mm["consent"], sp+"/email/marketing/consent", false); v.err == nil && c != ConsentUnsubscribed {
				v.fail(sp+"/email/marketing/consent", "consent must be %s, got %q.", ConsentUnsubscribed, c)
			}
		}
		if v.err == nil && !validEmail(email) {
			return nil, badRequest("Invalid email address %q.", email).at(ptr + "/attributes/email")
		}
		emails = append(emails, email)
	}
	list := ""
	if rel, ok := data["relationships"]; ok {
		rm := v.object(rel, "/data/relationships", "relationships", "list")
		lm := v.object(rm["list"], "/data/relationships/list", "list", "data")
		ref := v.object(lm["data"], "/data/relationships/list/data", "list", "type", "id")
		v.require(ref, "/data/relationships/list/data", "type", "id")
		v.kind(ref, "/data/relationships/list/data", "list")
		list = v.str(ref["id"], "/data/relationships/list/data/id", false)
	}
	if v.err != nil {
		return nil, v.err
	}
	s.mu.Lock()
	_, known := s.lists[list]
	s.mu.Unlock()
	if list != "" && !known {
		return nil, errorf(http.StatusNotFound, "A list with id %s does not exist.", list)
	}
	return func(w http.ResponseWriter) {
		s.mu.Lock()
		now := time.Now().UTC()
		for _, email := range emails {
			p := s.profiles[s.byEmail[strings.ToLower(email)]]
			if p == nil {
				p = &profile{id: newULID(), attrs: map[string]any{}, location: map[string]any{}, props: map[string]any{}, created: now}
				s.profiles[p.id] = p
				s.set(p, map[string]any{"email": email}, nil, nil)
			}
			p.consent = ConsentUnsubscribed
			p.updated = now
			if list != "" {
				delete(s.lists[list], p.id)
			}
		}
		s.mu.Unlock()
		s.Wrote()
		w.WriteHeader(http.StatusAccepted)
	}, nil
}

// Consent returns the email marketing consent of the profile with an email
// ("" when none was recorded or there is no such profile).
func (s *Server) Consent(email string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.profiles[s.byEmail[strings.ToLower(email)]]; p != nil {
		return p.consent
	}
	return ""
}

// Erased reports whether a deletion job deleted a profile with the email.
func (s *Server) Erased(email string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.erased[strings.ToLower(email)]
}
