package webhook

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
)

// Type is the destination type this package registers.
const Type = "webhook"

// Defaults and limits of the settings.
const (
	DefaultBatchSize = 100
	MaxBatchSize     = 1000
	DefaultTimeout   = 30 * time.Second
	MaxConcurrency   = 64
)

func init() {
	destination.Register(&destination.Spec{
		Type: Type, Title: "Webhook", Category: destination.CategoryData,
		Summary:    "POSTs batches of records as JSON, signed per Standard Webhooks",
		Doc:        specDoc,
		References: []string{"https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md"},
		Settings: []destination.Setting{
			{Name: "url", Kind: destination.KindURL, Required: true, Example: "https://hooks.example.com/cdp", Doc: "where batches are POSTed"},
			{Name: "secret", Kind: destination.KindSecret, Doc: "signing secret (whsec_<base64> or raw); unsigned when absent"},
			{Name: "batch_size", Kind: destination.KindInt, Default: strconv.Itoa(DefaultBatchSize), Min: 1, Max: MaxBatchSize,
				Doc: "records per request"},
			{Name: "timeout", Kind: destination.KindDuration, Default: DefaultTimeout.String(), Doc: "how long one request may take"},
			{Name: "concurrency", Kind: destination.KindInt, Min: 1, Max: MaxConcurrency, Doc: "requests in flight at once (default 1)"},
			{Name: "rate_limit", Kind: destination.KindRate, Doc: "requests per second, minute or hour the sync may send (default: no limit)"},
		},
		Modes: []string{"upsert", "mirror", "insert", "update"},
		Operations: []destination.Operation{
			{Op: destination.OpAdd, Sends: "POST to `url`: a record with op add"}, {Op: destination.OpChange, Sends: "POST to `url`: a record with op change"},
			{Op: destination.OpRemove, Sends: "POST to `url`: a record with op remove"},
			{Op: destination.OpUnsubscribe, Sends: "POST to `url`: a record with op unsubscribe (the last delivered fields); receipt `HTTP <status>`"},
			{Op: destination.OpErase, Sends: "POST to `url`: a record with op erase (the last delivered fields); the receiver deletes the person; " +
				"receipt `HTTP <status>`, or `not found: nothing to erase` when it answers status not_found"},
		},
		Limits: []string{fmt.Sprintf("%d records per request", MaxBatchSize)},
		New:    New,
	})
}

const specDoc = `Each batch is one POST of JSON to ` + "`url`" + `, signed the Standard Webhooks way when
` + "`secret`" + ` is set (headers ` + "`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`" + `):

` + "```json" + `
{"sync": "<sync name>", "run_id": "<run id>", "batch": "<webhook-id>",
 "records": [{"op": "add", "key": "<key>", "fields": {"email": "a@example.com"}}]}
` + "```" + `

` + "`op`" + ` is one of ` + "`add`, `change`, `remove`" + ` (the record left the audience),
` + "`unsubscribe`" + ` (the person withdrew a consent the sync requires) and ` + "`erase`" + `
(` + "`cdp forget`" + `: delete everything held about the person). ` + "`fields`" + ` of remove, unsubscribe
and erase are the last delivered fields, so the receiver can find the person. The
` + "`webhook-id`" + ` names the content, so a retried batch carries the same one.

A 2xx with an empty body confirms every record; a body
` + "`{\"results\": [{\"index\": i, \"status\": \"ok\"|\"not_found\"|\"rejected\"|\"retry\", \"error\": \"…\"}]}`" + `
answers per record (a record not listed is confirmed). ` + "`not_found`" + ` confirms an erase of a
person the receiver does not hold (receipt ` + "`not found: nothing to erase`" + `); a confirmed erase
or unsubscribe otherwise gets the receipt ` + "`HTTP <status>`" + `. 429, 408 and 5xx are retried
(Retry-After honoured); redirects and other 4xx reject the batch.`

// Destination delivers batches to one webhook URL. It is safe for
// concurrent use.
type Destination struct {
	name        string
	sync        string
	runID       string
	url         string
	shown       string // url without query or credentials, for messages
	key         []byte // HMAC key; nil: requests are not signed
	batchSize   int
	concurrency int // 0: the delivery's default (1)
	timeout     time.Duration
	client      *http.Client
	now         func() time.Time
}

var _ destination.Destination = (*Destination)(nil)

// New opens a webhook destination from its settings.
func New(_ context.Context, cfg destination.Config) (destination.Destination, error) {
	d := &Destination{
		name:      cfg.Name,
		sync:      cfg.SyncName,
		runID:     cfg.RunID,
		batchSize: DefaultBatchSize,
		timeout:   DefaultTimeout,
		now:       time.Now,
	}
	if err := d.parseURL(cfg.Settings["url"]); err != nil {
		return nil, d.errorf("%v", err)
	}
	if s := cfg.Settings["secret"]; s != "" {
		k, err := DecodeSecret(s)
		if err != nil {
			return nil, d.errorf("%v", err)
		}
		d.key = k
	}
	if s := cfg.Settings["batch_size"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxBatchSize {
			return nil, d.errorf("batch_size %q: want a whole number from 1 to %d", s, MaxBatchSize)
		}
		d.batchSize = n
	}
	if s := cfg.Settings["concurrency"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxConcurrency {
			return nil, d.errorf("concurrency %q: want a whole number from 1 to %d", s, MaxConcurrency)
		}
		d.concurrency = n
	}
	if s := cfg.Settings["timeout"]; s != "" {
		t, err := time.ParseDuration(s)
		if err != nil || t <= 0 {
			return nil, d.errorf("timeout %q: want a positive Go duration such as 30s or 1m", s)
		}
		d.timeout = t
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	d.client = &http.Client{
		Transport: tr,
		// Redirects are reported, not followed: a 302 would turn the POST into a GET.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return d, nil
}

func (d *Destination) parseURL(raw string) error {
	if raw == "" {
		return fmt.Errorf("url is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("url: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("url %q: want an http:// or https:// address", redact(u))
	}
	if u.Host == "" {
		return fmt.Errorf("url %q has no host", redact(u))
	}
	d.url, d.shown = raw, redact(u)
	return nil
}

// redact drops credentials, query and fragment, which may hold tokens.
func redact(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.Fragment, c.RawFragment = nil, "", "", ""
	c.ForceQuery = false
	return c.String()
}

// DecodeSecret returns the HMAC key of a Standard Webhooks secret: the
// base64-decoded part after "whsec_", or the secret's bytes otherwise.
func DecodeSecret(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return []byte(secret), nil
	}
	k, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("secret: the part after whsec_ is not valid base64")
	}
	if len(k) == 0 {
		return nil, fmt.Errorf("secret: whsec_ is followed by no key")
	}
	return k, nil
}

// Capabilities declares add, change, remove, unsubscribe and erase,
// batch_size records per request and the timeout. Rate limits come from
// the sync's rate_limit.
func (d *Destination) Capabilities() destination.Capabilities {
	return destination.Capabilities{
		Ops: []destination.Op{destination.OpAdd, destination.OpChange, destination.OpRemove,
			destination.OpUnsubscribe, destination.OpErase},
		MaxBatch:    d.batchSize,
		Concurrency: d.concurrency,
		Timeout:     d.timeout,
	}
}

// Close releases idle connections.
func (d *Destination) Close() error {
	d.client.CloseIdleConnections()
	return nil
}

func (d *Destination) errorf(format string, args ...any) error {
	return fmt.Errorf("webhook %s: "+format, append([]any{d.name}, args...)...)
}
