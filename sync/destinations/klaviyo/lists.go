package klaviyo

import (
	"context"
	"encoding/json"
	"net/url"
	"sort"
	"strings"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// removeMembers removes the records at idx from the list, by the profile ID
// the engine kept (Record.RemoteID) or, for records without one, the ID Get
// Profiles finds for the email. A profile Klaviyo does not have is not in
// the list either, so it needs nothing. Profiles themselves are never
// deleted.
func (d *Destination) removeMembers(ctx context.Context, batch []destination.Record, idx []int) error {
	if len(idx) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var ids, emails []string
	for _, i := range idx {
		if id := batch[i].RemoteID; id != "" {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
			continue
		}
		emails = append(emails, batch[i].Key)
	}
	found, err := d.lookup(ctx, emails)
	if err != nil {
		return err
	}
	for _, id := range found {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for start := 0; start < len(ids); start += MaxListMembers {
		chunk := ids[start:min(start+MaxListMembers, len(ids))]
		data := make([]ref, len(chunk))
		for i, id := range chunk {
			data[i] = ref{Type: "profile", ID: id}
		}
		body, _ := json.Marshal(map[string]any{"data": data})
		_, err := d.client.Do(ctx, httpdest.Request{Method: "DELETE", Body: body, ContentType: mediaType,
			Path: "/api/lists/" + url.PathEscape(d.listID) + "/relationships/profiles"})
		if err != nil {
			return err
		}
	}
	return nil
}

// lookup finds profile IDs by email with Get Profiles
// (filter=any(email,[…]), 100 a request); emails Klaviyo does not have are
// absent from the answer.
func (d *Destination) lookup(ctx context.Context, emails []string) ([]string, error) {
	var ids []string
	for start := 0; start < len(emails); start += PageSize {
		list, _ := json.Marshal(emails[start:min(start+PageSize, len(emails))])
		q := url.Values{"filter": {"any(email," + string(list) + ")"}, "fields[profile]": {"email"}}
		err := d.pages(ctx, "/api/profiles", q, func(resp *httpdest.Response) (string, error) {
			var doc profilesDoc
			if err := resp.Decode(&doc); err != nil {
				return "", &destination.BatchError{Err: err, Retryable: true, Status: resp.Status}
			}
			for _, p := range doc.Data {
				ids = append(ids, p.ID)
			}
			return doc.Links.Next, nil
		})
		if err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// clearFields clears the null fields of imported profiles with Update
// Profile: attributes (and location keys) set to null, custom properties
// removed with meta.patch_properties.unset — the bulk import ignores nulls.
// A failed update leaves its record failed (retryable or rejected as the
// answer says); a fatal answer stops the batch.
func (d *Destination) clearFields(ctx context.Context, batch []destination.Record, clears map[int]clearing, results []destination.Result) error {
	idx := make([]int, 0, len(clears))
	for i := range clears {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		if results[i].Err != nil {
			continue
		}
		id := results[i].RemoteID
		if id == "" {
			results[i] = destination.Result{Retryable: true, Err: d.errorf("record %q: imported, but Klaviyo gave no profile ID to clear %s on",
				batch[i].Key, strings.Join(clears[i].names(), ", "))}
			continue
		}
		body, _ := json.Marshal(patchBody(id, clears[i]))
		_, err := d.client.Do(ctx, httpdest.Request{Method: "PATCH", Path: "/api/profiles/" + url.PathEscape(id),
			Body: body, ContentType: mediaType})
		switch {
		case err == nil:
		case destination.IsFatal(err):
			return err
		default:
			results[i] = destination.Result{RemoteID: id, Retryable: destination.IsRetryable(err),
				Err: d.errorf("record %q: clearing %s: %v", batch[i].Key, strings.Join(clears[i].names(), ", "), err)}
		}
	}
	return nil
}

// names lists the cleared fields as destination field names.
func (c clearing) names() []string {
	out := append([]string(nil), c.attributes...)
	for _, k := range c.location {
		out = append(out, "location."+k)
	}
	for _, k := range c.unset {
		out = append(out, "properties."+k)
	}
	return out
}
