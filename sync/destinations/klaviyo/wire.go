package klaviyo

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// jobDoc is a bulk import job as Klaviyo returns it.
type jobDoc struct {
	Data struct {
		ID         string        `json:"id"`
		Attributes jobAttributes `json:"attributes"`
	} `json:"data"`
}

// jobAttributes are a job's status and counts (the counts may be null).
type jobAttributes struct {
	Status         string `json:"status"`
	TotalCount     int    `json:"total_count"`
	CompletedCount *int   `json:"completed_count"`
	FailedCount    *int   `json:"failed_count"`
}

// errorsDoc is a page of a job's import errors.
type errorsDoc struct {
	Data []struct {
		ID         string `json:"id"`
		Attributes struct {
			Code   string `json:"code"`
			Title  string `json:"title"`
			Detail string `json:"detail"`
			Source struct {
				Pointer string `json:"pointer"`
			} `json:"source"`
			OriginalPayload json.RawMessage `json:"original_payload"`
		} `json:"attributes"`
	} `json:"data"`
	Links links `json:"links"`
}

// profilesDoc is a page of profiles (a job's, or Get Profiles').
type profilesDoc struct {
	Data []struct {
		ID         string `json:"id"`
		Attributes struct {
			Email string `json:"email"`
		} `json:"attributes"`
	} `json:"data"`
	Links links `json:"links"`
}

// links are a collection's pagination links.
type links struct {
	Next string `json:"next"`
}

// ref is a JSON:API resource identifier.
type ref struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

var pointerRe = regexp.MustCompile(`^/data/attributes/profiles/data/(\d+)(/|$)`)

// pointerIndex reads the profile's position from an import error's
// source.pointer.
func pointerIndex(p string) (int, bool) {
	m := pointerRe.FindStringSubmatch(p)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// payloadEmail finds the email in an import error's original_payload: the
// profile object ({type, attributes: {email}}) or its attributes.
func payloadEmail(raw json.RawMessage) string {
	var v struct {
		Email      string `json:"email"`
		Attributes struct {
			Email string `json:"email"`
		} `json:"attributes"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	if v.Email != "" {
		return v.Email
	}
	return v.Attributes.Email
}

// maxPages bounds one pagination (10,000 profiles are 100 pages).
const maxPages = 1000

// pages GETs a collection page by page (page[size]=100), following the
// cursor of links.next; each returns the next link. Only the cursor is taken
// from the link, so requests stay on base_url with its credentials.
func (d *Destination) pages(ctx context.Context, path string, query url.Values,
	each func(*httpdest.Response) (next string, err error)) error {
	cursor := ""
	for n := 0; n < maxPages; n++ {
		q := url.Values{"page[size]": {strconv.Itoa(PageSize)}}
		for k, v := range query {
			q[k] = v
		}
		if cursor != "" {
			q.Set("page[cursor]", cursor)
		}
		resp, err := d.client.Do(ctx, httpdest.Request{Method: "GET", Path: path, Query: q})
		if err != nil {
			return err
		}
		next, err := each(resp)
		if err != nil {
			return err
		}
		c := cursorOf(next)
		if c == "" || c == cursor {
			return nil
		}
		cursor = c
	}
	return &destination.BatchError{Retryable: true, Err: d.errorf("GET %s: more than %d pages", path, maxPages)}
}

// cursorOf returns page[cursor] of a next link ("" when none).
func cursorOf(next string) string {
	if next == "" {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil {
		return ""
	}
	return u.Query().Get("page[cursor]")
}
