package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
)

// maxResponse is the most response body read.
const maxResponse = 4 << 20

// wireRecord is one record of the request body.
type wireRecord struct {
	Op     destination.Op `json:"op"`
	Key    string         `json:"key"`
	Fields map[string]any `json:"fields"`
}

// body is the request body.
type body struct {
	Sync    string            `json:"sync"`
	RunID   string            `json:"run_id"`
	Batch   string            `json:"batch"`
	Records []json.RawMessage `json:"records"`
}

// Apply POSTs the batch once and maps the answer to per-record results.
func (d *Destination) Apply(ctx context.Context, batch []destination.Record) ([]destination.Result, error) {
	if len(batch) > d.batchSize {
		return nil, &destination.BatchError{Err: d.errorf("batch of %d records exceeds batch_size %d", len(batch), d.batchSize)}
	}
	results := make([]destination.Result, len(batch))
	var recs []json.RawMessage
	var sent []int // position in recs → index in batch
	for i, r := range batch {
		b, err := encodeRecord(r)
		if err != nil {
			results[i] = destination.Result{Err: d.errorf("record %d: %v", i, err)}
			continue
		}
		recs = append(recs, b)
		sent = append(sent, i)
	}
	if len(recs) == 0 {
		return results, nil
	}
	id, payload, err := d.payload(batch, sent, recs)
	if err != nil {
		return nil, &destination.BatchError{Err: d.errorf("encoding the batch: %v", err)}
	}
	outcome, status, err := d.post(ctx, id, payload, len(recs))
	if err != nil {
		return nil, err
	}
	for j, o := range outcome {
		results[sent[j]] = receipt(batch[sent[j]].Op, o, status)
	}
	return results, nil
}

// nothingToErase is the receipt of an erase or unsubscribe the receiver
// answered "not_found".
const nothingToErase = "not found: nothing to erase"

// receipt sets the receipt of a confirmed erase or unsubscribe: "HTTP
// <status>", or nothingToErase when the receiver held no such record.
// Other operations carry none.
func receipt(op destination.Op, r destination.Result, status int) destination.Result {
	switch {
	case r.Err != nil || (op != destination.OpErase && op != destination.OpUnsubscribe):
		r.Receipt = ""
	case r.Receipt == "":
		r.Receipt = "HTTP " + strconv.Itoa(status)
	}
	return r
}

// encodeRecord renders one record, times in UTC.
func encodeRecord(r destination.Record) (json.RawMessage, error) {
	if err := destination.CheckOp(r.Op); err != nil {
		return nil, err
	}
	fields, err := destination.JSONFields(r.Fields)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(wireRecord{Op: r.Op, Key: r.Key, Fields: fields})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// payload returns the batch's webhook-id and body. The id names the
// content — the sync and each sent record's key, operation and fields —
// not the run, so a retry, and a resend by the next run after a crash,
// carry the same id and a receiver can deduplicate them.
func (d *Destination) payload(batch []destination.Record, sent []int, recs []json.RawMessage) (string, []byte, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%d:%s", len(d.sync), d.sync)
	for j, r := range recs {
		fmt.Fprintf(h, "|%d:%s", len(batch[sent[j]].Hash), batch[sent[j]].Hash)
		h.Write(r)
	}
	id := "msg_" + hex.EncodeToString(h.Sum(nil))[:24]
	b, err := json.Marshal(body{Sync: d.sync, RunID: d.runID, Batch: id, Records: recs})
	return id, b, err
}

// Sign returns the Standard Webhooks v1 signature of a message:
// "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)).
func Sign(key []byte, id, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + timestamp + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// post sends one request and classifies the outcome of n records; it
// returns the response's status with the results.
func (d *Destination) post(ctx context.Context, id string, payload []byte, n int) ([]destination.Result, int, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(payload))
	if err != nil {
		return nil, 0, &destination.BatchError{Err: d.errorf("%v", err)}
	}
	ts := strconv.FormatInt(d.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cdp-sync")
	req.Header.Set("Webhook-Id", id)
	req.Header.Set("Webhook-Timestamp", ts)
	if d.key != nil {
		req.Header.Set("Webhook-Signature", Sign(d.key, id, ts, payload))
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, 0, d.transportError(ctx, err)
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, 0, &destination.BatchError{Err: d.errorf("POST %s: reading the %s response: %v", d.shown, resp.Status, err), Retryable: true, Status: resp.StatusCode}
	}
	res, err := d.classify(resp, respBody, n)
	return res, resp.StatusCode, err
}

// transportError wraps a failure to get a response; always retryable.
func (d *Destination) transportError(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("no response within %v: %w", d.timeout, err)
	}
	return &destination.BatchError{Err: d.errorf("POST %s: %w", d.shown, err), Retryable: true}
}

// classify maps a response to results of the n records sent.
func (d *Destination) classify(resp *http.Response, body []byte, n int) ([]destination.Result, error) {
	code := resp.StatusCode
	fail := func(retryable bool, format string, args ...any) error {
		be := &destination.BatchError{Retryable: retryable, Status: code,
			Err: d.errorf("POST %s: %s: "+format, append([]any{d.shown, resp.Status}, args...)...)}
		if retryable {
			be.RetryAfter = RetryAfter(resp.Header.Get("Retry-After"), d.now())
		}
		return be
	}
	switch {
	case code >= 200 && code < 300:
		if len(body) > maxResponse {
			return nil, fail(true, "response body larger than %d bytes", maxResponse)
		}
		res, err := ParseResults(body, n)
		if err != nil {
			return nil, fail(true, "%v", err)
		}
		return res, nil
	case code == http.StatusTooManyRequests:
		return nil, fail(true, "throttled%s", retryAfterNote(resp.Header.Get("Retry-After")))
	case code == http.StatusRequestTimeout || code >= 500:
		return nil, fail(true, "receiver failed, will retry: %s", snippet(body))
	case code >= 300 && code < 400:
		return nil, fail(false, "redirects are not followed; set url to the final address (Location: %s)", resp.Header.Get("Location"))
	default:
		return nil, fail(false, "receiver refused the batch: %s", snippet(body))
	}
}

func retryAfterNote(h string) string {
	if h == "" {
		return ""
	}
	return " (Retry-After: " + h + ")"
}

// RetryAfter parses a Retry-After header: whole seconds or an HTTP date
// (relative to now). Missing, invalid or past values give 0.
func RetryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.ParseInt(h, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(min(s, int64(math.MaxInt64/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// responseResult is one entry of a 2xx response's results.
type responseResult struct {
	Index  *int   `json:"index"`
	Status string `json:"status"`
	Error  string `json:"error"`
}

// ParseResults reads a 2xx body into the results of n records: an empty
// body confirms them all; otherwise {"results": [{"index", "status",
// "error"}]} where records not listed are confirmed. Status "not_found"
// (the receiver holds no such record: an erase with nothing to erase)
// confirms the record with the receipt "not found: nothing to erase". Any
// other shape, an index out of range or repeated, or an unknown status is
// an error.
func ParseResults(body []byte, n int) ([]destination.Result, error) {
	out := make([]destination.Result, n)
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return out, nil
	}
	var r struct {
		Results []responseResult `json:"results"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf(`response is not {"results": [...]} JSON (%v): %s`, err, snippet(body))
	}
	seen := make([]bool, n)
	for i, e := range r.Results {
		if e.Index == nil {
			return nil, fmt.Errorf("results[%d] has no index", i)
		}
		x := *e.Index
		if x < 0 || x >= n {
			return nil, fmt.Errorf("results[%d] has index %d, outside the batch of %d records", i, x, n)
		}
		if seen[x] {
			return nil, fmt.Errorf("results[%d] repeats index %d", i, x)
		}
		seen[x] = true
		msg := e.Error
		if msg == "" {
			msg = "no reason given"
		}
		switch e.Status {
		case "ok":
		case "not_found":
			out[x] = destination.Result{Receipt: nothingToErase}
		case "rejected":
			out[x] = destination.Result{Err: fmt.Errorf("rejected by the receiver: %s", msg)}
		case "retry":
			out[x] = destination.Result{Err: fmt.Errorf("receiver asks to retry: %s", msg), Retryable: true}
		default:
			return nil, fmt.Errorf(`results[%d] has status %q, want "ok", "not_found", "rejected" or "retry"`, i, e.Status)
		}
	}
	return out, nil
}

// snippet returns the start of a body, quoted.
func snippet(b []byte) string {
	const max = 300
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "(empty body)"
	}
	s := []rune(string(b))
	if len(s) > max {
		return strconv.Quote(string(s[:max])) + "…"
	}
	return strconv.Quote(string(s))
}
