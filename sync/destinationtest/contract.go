package destinationtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxBody is the largest request body the receiver reads.
const maxBody = 64 << 20

// payload is the request body of the webhook contract.
type payload struct {
	Sync    *string         `json:"sync"`
	RunID   *string         `json:"run_id"`
	Batch   *string         `json:"batch"`
	Records []payloadRecord `json:"records"`
}

// payloadRecord is one record of a payload.
type payloadRecord struct {
	Op     string          `json:"op"`
	Key    *string         `json:"key"`
	Fields json.RawMessage `json:"fields"`
}

// request is a request that satisfies the contract.
type request struct {
	id      string
	sync    string
	runID   string
	records []record
	digest  [32]byte
}

// record is one decoded record.
type record struct {
	op     string
	key    string
	fields map[string]any
}

// decodeKey turns a Standard Webhooks secret into the HMAC key: the base64
// after "whsec_", or the secret's bytes otherwise.
func decodeKey(secret string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		k, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return nil, fmt.Errorf("secret: the part after whsec_ is not base64: %v", err)
		}
		return k, nil
	}
	return []byte(secret), nil
}

// sign returns the v1 signature of a message.
func sign(key []byte, id, ts string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// validate checks one POST against the contract.
func (r *Receiver) validate(h *http.Request) (*request, error) {
	ct, _, err := mime.ParseMediaType(h.Header.Get("Content-Type"))
	if err != nil || ct != "application/json" {
		return nil, fmt.Errorf("content-type is %q, want application/json", h.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(io.LimitReader(h.Body, maxBody+1))
	if err != nil {
		return nil, errClientGone{err}
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("body larger than %d bytes", maxBody)
	}
	id := h.Header.Get("Webhook-Id")
	if id == "" {
		return nil, errors.New("missing webhook-id header")
	}
	if err := r.checkTimestamp(h.Header.Get("Webhook-Timestamp")); err != nil {
		return nil, err
	}
	if r.key != nil {
		if err := checkSignature(r.key, id, h.Header.Get("Webhook-Timestamp"), body, h.Header.Get("Webhook-Signature")); err != nil {
			return nil, err
		}
	}
	req, err := r.decode(body)
	if err != nil {
		return nil, err
	}
	if req.id != id {
		return nil, fmt.Errorf("body batch %q differs from webhook-id %q", req.id, id)
	}
	req.digest = contentDigest(req)
	return req, nil
}

// contentDigest fingerprints what a webhook-id names: the sync and its
// records (not the run, since a batch resent by the next run after a crash
// keeps its id).
func contentDigest(req *request) [32]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%q", req.sync)
	for _, rec := range req.records {
		f, _ := json.Marshal(rec.fields)
		fmt.Fprintf(h, "|%q %q %s", rec.op, rec.key, f)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// errClientGone marks a request whose body could not be read because the
// client went away: not a contract violation.
type errClientGone struct{ err error }

// Error implements error.
func (e errClientGone) Error() string { return "reading body: " + e.err.Error() }

func (r *Receiver) checkTimestamp(s string) error {
	if s == "" {
		return errors.New("missing webhook-timestamp header")
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook-timestamp %q is not unix seconds", s)
	}
	skew := time.Since(time.Unix(sec, 0))
	if skew < 0 {
		skew = -skew
	}
	if skew > r.opts.Tolerance {
		return fmt.Errorf("webhook-timestamp %s is %v away from now (tolerance %v)", s, skew.Round(time.Second), r.opts.Tolerance)
	}
	return nil
}

// checkSignature accepts a header holding at least one matching v1 signature
// among space-separated ones.
func checkSignature(key []byte, id, ts string, body []byte, header string) error {
	if header == "" {
		return errors.New("missing webhook-signature header")
	}
	want := sign(key, id, ts, body)
	for _, s := range strings.Fields(header) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return errors.New("webhook-signature does not match the body (want v1,<base64 HMAC-SHA256 of id.timestamp.body>)")
}

// decode parses the body strictly: no unknown members, no trailing data.
func (r *Receiver) decode(body []byte) (*request, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var p payload
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("body: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("body: data after the JSON object")
	}
	switch {
	case p.Sync == nil || *p.Sync == "":
		return nil, errors.New(`body: "sync" missing or empty`)
	case p.RunID == nil || *p.RunID == "":
		return nil, errors.New(`body: "run_id" missing or empty`)
	case p.Batch == nil:
		return nil, errors.New(`body: "batch" missing`)
	case len(p.Records) == 0:
		return nil, errors.New(`body: "records" missing or empty`)
	case len(p.Records) > r.opts.MaxBatch:
		return nil, fmt.Errorf("body: %d records, more than the maximum batch of %d", len(p.Records), r.opts.MaxBatch)
	}
	req := &request{id: *p.Batch, sync: *p.Sync, runID: *p.RunID, records: make([]record, len(p.Records))}
	for i, pr := range p.Records {
		rec, err := decodeRecord(pr)
		if err != nil {
			return nil, fmt.Errorf("body: records[%d]: %v", i, err)
		}
		req.records[i] = rec
	}
	return req, nil
}

func decodeRecord(pr payloadRecord) (record, error) {
	switch pr.Op {
	case "add", "change", "remove", "unsubscribe", "erase":
	default:
		return record{}, fmt.Errorf(`"op" is %q, want add, change, remove, unsubscribe or erase`, pr.Op)
	}
	if pr.Key == nil {
		return record{}, errors.New(`"key" missing`)
	}
	if t := bytes.TrimSpace(pr.Fields); len(t) == 0 || t[0] != '{' {
		return record{}, errors.New(`"fields" missing or not an object`)
	}
	var fields map[string]any
	if err := json.Unmarshal(pr.Fields, &fields); err != nil {
		return record{}, fmt.Errorf(`"fields": %v`, err)
	}
	return record{op: pr.Op, key: *pr.Key, fields: fields}, nil
}
