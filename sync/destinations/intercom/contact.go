package intercom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// searchPage is how many matches a key lookup asks for (more than one
// only matters for duplicate leads, of which the oldest is written).
const searchPage = 5

// call sends one request once the limiter allows it and lets the limiter
// see Intercom's rate-limit headers.
func (d *Destination) call(ctx context.Context, rq httpdest.Request) (*httpdest.Response, error) {
	if err := d.lim.wait(ctx); err != nil {
		return nil, err
	}
	resp, err := d.client.Do(ctx, rq)
	if resp != nil {
		d.lim.observe(resp.Status, resp.Header)
	}
	return resp, err
}

// contactRef is the part of a contact object the connector reads.
type contactRef struct {
	ID        string `json:"id"`
	CreatedAt int64  `json:"created_at"`
}

// search looks the key up among contacts of the configured role and
// returns the oldest match's ID ("" when there is none).
func (d *Destination) search(ctx context.Context, key string) (string, error) {
	q := map[string]any{
		"query": map[string]any{"operator": "AND", "value": []any{
			map[string]any{"field": d.keyAttr, "operator": "=", "value": key},
			map[string]any{"field": "role", "operator": "=", "value": d.role},
		}},
		"pagination": map[string]any{"per_page": searchPage},
	}
	resp, err := d.call(ctx, httpdest.Request{Method: http.MethodPost, Path: "/contacts/search", JSON: q})
	if err != nil {
		return "", err
	}
	var list struct {
		Data []contactRef `json:"data"`
	}
	if err := resp.Decode(&list); err != nil {
		return "", &destination.BatchError{Err: err, Retryable: true, Status: resp.Status}
	}
	best := contactRef{}
	for _, c := range list.Data {
		if c.ID != "" && (best.ID == "" || c.CreatedAt < best.CreatedAt) {
			best = c
		}
	}
	return best.ID, nil
}

// create creates a contact of the configured role. When Intercom answers
// that a matching contact exists (409 "… already exists with id=…"), it
// returns that contact's ID with existing set.
func (d *Destination) create(ctx context.Context, body map[string]any) (id string, existing bool, err error) {
	b := maps.Clone(body)
	b["role"] = d.role
	resp, err := d.call(ctx, httpdest.Request{Method: http.MethodPost, Path: "/contacts", JSON: b})
	if err != nil {
		if id := conflictID(resp); id != "" {
			return id, true, nil
		}
		return "", false, err
	}
	var c contactRef
	if err := resp.Decode(&c); err != nil || c.ID == "" {
		return "", false, &destination.BatchError{Retryable: true, Status: resp.Status,
			Err: fmt.Errorf("%s %s: the %d answer names no contact id", resp.Method, resp.URL, resp.Status)}
	}
	return c.ID, false, nil
}

// update changes a contact.
func (d *Destination) update(ctx context.Context, id string, body map[string]any) error {
	_, err := d.call(ctx, httpdest.Request{Method: http.MethodPut, Path: "/contacts/" + url.PathEscape(id), JSON: body})
	return err
}

// tag attaches the audience tag to a contact.
func (d *Destination) tag(ctx context.Context, id string) error {
	_, err := d.call(ctx, httpdest.Request{Method: http.MethodPost, Path: "/contacts/" + url.PathEscape(id) + "/tags",
		JSON: map[string]string{"id": d.tagID}})
	return err
}

// untag detaches the audience tag from a contact.
func (d *Destination) untag(ctx context.Context, id string) error {
	_, err := d.call(ctx, httpdest.Request{Method: http.MethodDelete,
		Path: "/contacts/" + url.PathEscape(id) + "/tags/" + url.PathEscape(d.tagID)})
	return err
}

var conflictRe = regexp.MustCompile(`id=([A-Za-z0-9_-]+)`)

// conflictID returns the existing contact's ID from a 409 answer to a
// create ("A contact matching those details already exists with id=…").
func conflictID(resp *httpdest.Response) string {
	if resp == nil || resp.Status != http.StatusConflict {
		return ""
	}
	for _, e := range errorList(resp.Body) {
		if m := conflictRe.FindStringSubmatch(e.Message); m != nil {
			return m[1]
		}
	}
	return ""
}

// apiError is one entry of Intercom's error list.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

// errorList decodes {"type": "error.list", "errors": [...]} (nil for
// another body).
func errorList(body []byte) []apiError {
	var v struct {
		Type   string     `json:"type"`
		Errors []apiError `json:"errors"`
	}
	if json.Unmarshal(body, &v) != nil || v.Type != "error.list" {
		return nil
	}
	return v.Errors
}

// describe renders an error list as "code: message; …".
func describe(errs []apiError) string {
	parts := make([]string, 0, len(errs))
	for _, e := range errs {
		p := e.Code
		if e.Message != "" {
			p += ": " + e.Message
		}
		if e.Field != "" {
			p += " (field " + e.Field + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

// classify is the default classification (429 throttled, 401 and 403
// fatal, 5xx retryable, other 4xx rejected) with two Intercom refinements:
// X-RateLimit-Reset, which Intercom sends with every answer, sets the wait
// of a 429 only (a 5xx waits for a Retry-After, if any, not for the end of
// the rate window); and a rejection's message is Intercom's error list.
func classify(r *httpdest.Response) (error, bool) {
	err := httpdest.Classify(r)
	var be *destination.BatchError
	if err == nil || !errors.As(err, &be) {
		return err, true
	}
	if !be.Throttled {
		be.RetryAfter = 0
		if ra := r.Header.Get("Retry-After"); ra != "" {
			be.RetryAfter = httpdest.RetryAfter(http.Header{"Retry-After": {ra}}, time.Now())
		}
	}
	if be.Fatal || be.Throttled || be.Retryable {
		return be, true
	}
	if errs := errorList(r.Body); len(errs) > 0 {
		be.Err = fmt.Errorf("%s %s: %d %s", r.Method, r.URL, r.Status, describe(errs))
	}
	return be, true
}

// statusOf is the HTTP status of a failed call (0 when none).
func statusOf(err error) int {
	var be *destination.BatchError
	if errors.As(err, &be) {
		return be.Status
	}
	return 0
}
