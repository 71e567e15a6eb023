package mailchimp

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Member statuses Mailchimp accepts in writes, and "archived", which the
// server gives a member archived with DELETE.
var writeStatuses = []string{"subscribed", "unsubscribed", "cleaned", "pending", "transactional"}

// StatusArchived is the status of an archived member.
const StatusArchived = "archived"

// MergeField is one merge field definition of an audience, as
// GET /3.0/lists/{list_id}/merge-fields returns it.
type MergeField struct {
	MergeID      int            `json:"merge_id"`
	Tag          string         `json:"tag"`
	Name         string         `json:"name"`
	Type         string         `json:"type"` // text, number, address, phone, date, url, imageurl, radio, dropdown, birthday, zip
	Required     bool           `json:"required"`
	DefaultValue string         `json:"default_value"`
	Public       bool           `json:"public"`
	DisplayOrder int            `json:"display_order"`
	Options      map[string]any `json:"options"`
	HelpText     string         `json:"help_text"`
	ListID       string         `json:"list_id"`
}

// Member is a list member as the server holds it.
type Member struct {
	ID          string         // subscriber hash: MD5 of the lower-cased email
	Email       string         // as first given
	Status      string         // subscribed, unsubscribed, cleaned, pending, transactional or archived
	MergeFields map[string]any // tag → string or float64; a cleared field is absent
	Tags        []string       // in the order first added
	LastChanged time.Time
}

// list is one audience.
type list struct {
	id      string
	fields  []MergeField
	members map[string]*Member // by subscriber hash
	deleted map[string]bool    // subscriber hashes permanently deleted
	nextTag int                // next tag id
	tagIDs  map[string]int
}

func newList(id string) *list {
	l := &list{id: id, members: map[string]*Member{}, deleted: map[string]bool{}, tagIDs: map[string]int{}, nextTag: 1}
	for i, f := range []MergeField{
		{Tag: "FNAME", Name: "First Name", Type: "text", Options: map[string]any{"size": 25}},
		{Tag: "LNAME", Name: "Last Name", Type: "text", Options: map[string]any{"size": 25}},
		{Tag: "PHONE", Name: "Phone Number", Type: "phone", Options: map[string]any{"phone_format": "none"}},
		{Tag: "LTV", Name: "Lifetime value", Type: "number", Options: map[string]any{}},
	} {
		l.addField(f, i)
	}
	return l
}

func (l *list) addField(f MergeField, order int) {
	f.MergeID = len(l.fields) + 1
	f.ListID = l.id
	f.DisplayOrder = order + 2 // EMAIL is 1
	if f.Options == nil {
		f.Options = map[string]any{}
	}
	l.fields = append(l.fields, f)
}

// field returns the definition of a merge tag.
func (l *list) field(tag string) (MergeField, bool) {
	for _, f := range l.fields {
		if f.Tag == tag {
			return f, true
		}
	}
	return MergeField{}, false
}

// SubscriberHash is the MD5 of the lower-cased email address, Mailchimp's
// member ID.
func SubscriberHash(email string) string {
	sum := md5.Sum([]byte(strings.ToLower(email)))
	return hex.EncodeToString(sum[:])
}

// clone copies a member for callers outside the lock.
func (m *Member) clone() Member {
	c := *m
	c.MergeFields = maps.Clone(m.MergeFields)
	c.Tags = slices.Clone(m.Tags)
	return c
}

// mergeValue checks one merge field value against its definition and
// returns what is stored ("" clears). The error is the field_message of
// Mailchimp's per-member error.
func mergeValue(f MergeField, v any) (any, error) {
	if s, ok := v.(string); ok && s == "" {
		return "", nil
	}
	switch f.Type {
	case "number":
		switch x := v.(type) {
		case float64:
			return x, nil
		case string:
			n, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return nil, fmt.Errorf("Please enter a number")
			}
			return n, nil
		}
		return nil, fmt.Errorf("Please enter a number")
	case "address":
		if _, ok := v.(map[string]any); ok {
			return v, nil
		}
		return nil, fmt.Errorf("Please enter a complete address")
	}
	switch x := v.(type) {
	case string:
		if len([]rune(x)) > 255 {
			return nil, fmt.Errorf("Please enter a value of 255 characters or fewer")
		}
		return x, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return nil, fmt.Errorf("Please enter a text value")
}

// memberJSON renders a member the way the API answers it: every merge field
// of the list, "" when empty.
func (l *list) memberJSON(m *Member) map[string]any {
	merge := map[string]any{}
	for _, f := range l.fields {
		if v, ok := m.MergeFields[f.Tag]; ok {
			merge[f.Tag] = v
		} else {
			merge[f.Tag] = ""
		}
	}
	tags := make([]map[string]any, 0, len(m.Tags))
	for _, t := range m.Tags {
		tags = append(tags, map[string]any{"id": l.tagIDs[t], "name": t})
	}
	return map[string]any{
		"id": m.ID, "email_address": m.Email, "unique_email_id": m.ID[:10], "email_type": "html",
		"status": m.Status, "merge_fields": merge, "list_id": l.id, "tags_count": len(tags), "tags": tags,
		"last_changed": m.LastChanged.UTC().Format(time.RFC3339), "_links": []any{},
	}
}

// addTags adds tag names to a member (replacing them with sync).
func (l *list) addTags(m *Member, tags []string, sync bool) {
	if sync {
		m.Tags = nil
	}
	for _, t := range tags {
		if _, ok := l.tagIDs[t]; !ok {
			l.tagIDs[t] = l.nextTag
			l.nextTag++
		}
		if !slices.Contains(m.Tags, t) {
			m.Tags = append(m.Tags, t)
		}
	}
}
