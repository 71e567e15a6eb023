package hubspot

import (
	"encoding/json"
	"net/http"
)

// apiError is HubSpot's error body, also one entry of a batch's errors.
type apiError struct {
	Status        string              `json:"status"`
	Message       string              `json:"message"`
	CorrelationID string              `json:"correlationId,omitempty"`
	Category      string              `json:"category"`
	SubCategory   string              `json:"subCategory,omitempty"`
	Errors        []errorDetail       `json:"errors,omitempty"`
	Context       map[string][]string `json:"context,omitempty"`
}

// errorDetail is one entry of an error's errors: a property that failed.
type errorDetail struct {
	Message string              `json:"message"`
	Code    string              `json:"code,omitempty"`
	In      string              `json:"in,omitempty"`
	Context map[string][]string `json:"context,omitempty"`
}

// authError is a 401 body.
func (s *Server) authError(category, msg string) apiError {
	return apiError{Status: "error", Message: msg, CorrelationID: s.correlation(), Category: category}
}

// writeError answers an error body.
func (s *Server) writeError(w http.ResponseWriter, status int, e apiError) {
	if e.CorrelationID == "" {
		e.CorrelationID = s.correlation()
	}
	writeJSON(w, status, e)
}

// refuse records a contract violation and answers it the way HubSpot would:
// status (400 for a bad body) with a VALIDATION_ERROR naming the problem.
func (s *Server) refuse(w http.ResponseWriter, status int, category, msg string) {
	s.Kit.Report("%s", msg)
	if category == "" {
		category = "VALIDATION_ERROR"
	}
	s.writeError(w, status, apiError{Status: "error", Message: msg, Category: category})
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
