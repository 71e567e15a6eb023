package intercom

import (
	"net/http"
	"strconv"
)

// attribute is a data attribute as GET /data_attributes lists it.
type attribute struct {
	Type              string `json:"type"`
	ID                int    `json:"id,omitempty"`
	Model             string `json:"model"`
	Name              string `json:"name"`
	FullName          string `json:"full_name"`
	Label             string `json:"label"`
	Description       string `json:"description"`
	DataType          string `json:"data_type"`
	APIWritable       bool   `json:"api_writable"`
	MessengerWritable bool   `json:"messenger_writable"`
	UIWritable        bool   `json:"ui_writable"`
	Custom            bool   `json:"custom"`
	Archived          bool   `json:"archived"`
}

// defaultAttributes are the standard contact attributes the connector may
// write or read, and the custom attribute ltv (a float) the suite maps.
func defaultAttributes() []attribute {
	std := func(name, label, dataType string, writable bool) attribute {
		return attribute{Name: name, FullName: name, Label: label, Description: label, DataType: dataType,
			APIWritable: writable, MessengerWritable: writable}
	}
	return []attribute{
		std("id", "ID", "string", false),
		std("name", "Name", "string", true),
		std("email", "Email", "string", true),
		std("phone", "Phone", "string", true),
		std("external_id", "User ID", "string", true),
		std("avatar", "Avatar", "string", true),
		std("role", "Role", "string", true),
		std("owner_id", "Owner", "integer", true),
		std("unsubscribed_from_emails", "Unsubscribed from Emails", "boolean", true),
		std("signed_up_at", "Signed up", "date", true),
		std("last_seen_at", "Last seen", "date", true),
		std("created_at", "First seen", "date", false),
		std("updated_at", "Updated", "date", false),
		{Name: "ltv", FullName: "custom_attributes.ltv", Label: "Lifetime value", Description: "Lifetime value",
			DataType: "float", APIWritable: true, UIWritable: true, Custom: true, ID: 12878},
	}
}

// customAttribute returns the live custom attribute named name (nil when
// none). s.mu is held.
func (s *Server) customAttribute(name string) *attribute {
	for i := range s.attrs {
		if a := &s.attrs[i]; a.Custom && !a.Archived && a.Name == name {
			return a
		}
	}
	return nil
}

// ArchiveAttribute archives a custom attribute: writes to it are refused.
func (s *Server) ArchiveAttribute(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.attrs {
		if s.attrs[i].Custom && s.attrs[i].Name == name {
			s.attrs[i].Archived = true
		}
	}
}

// listAttributes is GET /data_attributes?model=contact|company
// &include_archived=true|false.
func (s *Server) listAttributes(w http.ResponseWriter, r *http.Request, _ []string, _ []byte) {
	q := r.URL.Query()
	model := q.Get("model")
	if model != "" && model != "contact" && model != "company" {
		s.violate(w, http.StatusBadRequest, "parameter_invalid", "model must be contact or company",
			"list data attributes: model %q", model)
		return
	}
	archived := false
	if v := q.Get("include_archived"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			s.violate(w, http.StatusBadRequest, "parameter_invalid", "include_archived must be true or false",
				"list data attributes: include_archived %q", v)
			return
		}
		archived = b
	}
	if s.fault(w, r) {
		return
	}
	s.mu.Lock()
	data := []attribute{}
	if model != "company" {
		for _, a := range s.attrs {
			if !a.Archived || archived {
				a.Type, a.Model = "data_attribute", "contact"
				data = append(data, a)
			}
		}
	}
	s.mu.Unlock()
	writeJSON(w, map[string]any{"type": "list", "data": data})
}
