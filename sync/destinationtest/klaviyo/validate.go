package klaviyo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// validator checks a JSON:API document; it keeps the first problem, as a
// violation answered 400 with the member's pointer.
type validator struct{ err *apiError }

func (v *validator) fail(ptr, format string, args ...any) {
	if v.err == nil {
		v.err = violationf(http.StatusBadRequest, format, args...).at(ptr)
	}
}

// decode parses a body (numbers kept as json.Number).
func decode(body []byte) (any, *apiError) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, violationf(http.StatusBadRequest, "JSON parse error - %v", err)
	}
	if dec.More() {
		return nil, violationf(http.StatusBadRequest, "JSON parse error - data after the document")
	}
	return x, nil
}

// object checks that x is an object whose members are all in allowed.
func (v *validator) object(x any, ptr, resource string, allowed ...string) map[string]any {
	if v.err != nil {
		return nil
	}
	m, ok := x.(map[string]any)
	if !ok {
		v.fail(ptr, "%s must be an object.", name(ptr))
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			v.fail(ptr+"/"+k, "'%s' is not a valid field for the resource '%s'.", k, resource)
			return nil
		}
	}
	return m
}

// require checks that each key is present and not null.
func (v *validator) require(m map[string]any, ptr string, keys ...string) {
	for _, k := range keys {
		if x, ok := m[k]; v.err == nil && (!ok || x == nil) {
			v.fail(ptr+"/"+k, "'%s' is a required field.", k)
		}
	}
}

// kind checks a resource's type member.
func (v *validator) kind(m map[string]any, ptr, want string) {
	if v.err != nil || m == nil {
		return
	}
	if s, ok := m["type"].(string); !ok || s != want {
		v.fail(ptr+"/type", "Invalid type. Expected \"%s\", got %s.", want, show(m["type"]))
	}
}

// str checks a string member (or null when nullable).
func (v *validator) str(x any, ptr string, nullable bool) string {
	if v.err != nil {
		return ""
	}
	if x == nil && nullable {
		return ""
	}
	s, ok := x.(string)
	if !ok {
		v.fail(ptr, "Invalid input: %s must be a string, got %s.", name(ptr), show(x))
	}
	return s
}

// array checks an array member.
func (v *validator) array(x any, ptr string) []any {
	if v.err != nil {
		return nil
	}
	a, ok := x.([]any)
	if !ok {
		v.fail(ptr, "%s must be an array.", name(ptr))
	}
	return a
}

// name is the last member of a pointer.
func name(ptr string) string { return ptr[strings.LastIndex(ptr, "/")+1:] }

// show renders a value for a message.
func show(x any) string {
	if x == nil {
		return "null"
	}
	b, _ := json.Marshal(x)
	if len(b) > 60 {
		b = append(b[:60], "…"...)
	}
	return string(b)
}

// revisionRe is a revision header: YYYY-MM-DD with an optional suffix.
var revisionRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$`)

// MinRevision is the first revision whose bulk import paths have no
// trailing slash, the paths this server serves.
const MinRevision = "2024-10-15"

// checkHeaders checks what every request must carry besides credentials:
// the revision header, an acceptable Accept, and, with a body, JSON:API's
// content-type.
func checkHeaders(r *http.Request, hasBody bool) *apiError {
	rev := r.Header.Get("revision")
	switch {
	case rev == "":
		return violationf(http.StatusBadRequest, "Missing `revision` header. Revision is required.").param("revision")
	case !revisionRe.MatchString(rev):
		return violationf(http.StatusBadRequest, "Invalid revision %q: the format is YYYY-MM-DD[.suffix].", rev).param("revision")
	case rev[:10] < MinRevision:
		return violationf(http.StatusBadRequest, "Revision %s predates the endpoints served here (%s or later).", rev, MinRevision).param("revision")
	}
	if acc := r.Header.Get("Accept"); acc != "" && !acceptable(acc) {
		return violationf(http.StatusNotAcceptable, "Could not satisfy the request Accept header %q.", acc)
	}
	if hasBody {
		ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || ct != mediaType {
			return violationf(http.StatusUnsupportedMediaType, "Unsupported media type %q in request; use %s.", r.Header.Get("Content-Type"), mediaType)
		}
	}
	return nil
}

// acceptable reports whether an Accept header admits JSON:API or JSON.
func acceptable(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		t, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && (t == mediaType || t == "application/json" || t == "*/*" || t == "application/*") {
			return true
		}
	}
	return false
}

// fieldset reads a sparse fieldset parameter (fields[profile]=a,b): nil
// when absent, an error naming the first unknown field.
func fieldset(r *http.Request, param string, allowed []string) ([]string, *apiError) {
	raw := r.URL.Query().Get(param)
	if raw == "" {
		return nil, nil
	}
	out := strings.Split(raw, ",")
	for _, f := range out {
		if !slices.Contains(allowed, f) {
			return nil, violationf(http.StatusBadRequest, "'%s' is not a valid field for %s.", f, param).param(param)
		}
	}
	return out, nil
}

// pageSize reads page[size]: default 20, 1 to 100.
func pageSize(r *http.Request) (int, *apiError) {
	raw := r.URL.Query().Get("page[size]")
	if raw == "" {
		return 20, nil
	}
	var n int
	if _, err := fmt.Sscanf(raw, "%d", &n); err != nil || n < 1 || n > 100 || fmt.Sprint(n) != raw {
		return 0, violationf(http.StatusBadRequest, "page[size] must be a whole number from 1 to 100, got %q.", raw).param("page[size]")
	}
	return n, nil
}
