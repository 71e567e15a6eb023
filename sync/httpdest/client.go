package httpdest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
)

// maxBody is the most response body read.
const maxBody = 16 << 20

// Client sends a destination's requests: base URL, credentials, a timeout
// per request, classification of failures, and debug logs with secrets
// redacted. It is safe for concurrent use.
type Client struct {
	// Name prefixes error messages, e.g. "hubspot crm".
	Name    string
	BaseURL *url.URL
	Auth    Auth
	Timeout time.Duration
	// Classify, when set, sees every response first: a non-nil error (or
	// ok true with a nil error) decides it; ok false falls back to the
	// default classification (see Classify).
	Classify func(r *Response) (err error, ok bool)
	// Header is sent with every request (e.g. Klaviyo's revision).
	Header http.Header
	// Logger gets each request and response at debug level.
	Logger *slog.Logger
	// HTTP is the underlying client (default: a clone of the default
	// transport, redirects not followed).
	HTTP *http.Client
}

// New returns a client for cfg's destination: base_url and timeout from
// its values, the run's logger.
func New(name string, cfg destination.Config, auth Auth) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = max(cfg.Values.Int("concurrency"), 2)
	return &Client{Name: name, BaseURL: cfg.Values.URL("base_url"), Auth: auth, Timeout: cfg.Values.Duration("timeout"),
		Logger: cfg.Logger, HTTP: &http.Client{Transport: tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Request is one call.
type Request struct {
	Method string
	// Path is joined to the base URL's path; it may carry a query. An
	// absolute URL (e.g. a Salesforce instance URL) is used as is.
	Path string
	// Query is added to the URL.
	Query url.Values
	// JSON is encoded as the body with content-type application/json,
	// unless Body is set.
	JSON        any
	Body        []byte
	ContentType string
	Header      http.Header
}

// Response is a vendor's answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// Method and URL of the request, for messages (no credentials).
	Method, URL string
}

// Decode unmarshals the body as JSON.
func (r *Response) Decode(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("%s %s: decoding the %d response: %v", r.Method, r.URL, r.Status, err)
	}
	return nil
}

// Do sends a request. It returns the response for any status the
// classification accepts (2xx, and whatever Classify says is fine, e.g. a
// 207 multi-status); otherwise the response and a *destination.BatchError:
// retryable for 429, 5xx, 408 and transport failures (with the wait the
// vendor asked for), fatal for refused credentials and permissions, a plain
// rejection for other 4xx. After a 401 an OAuth2 token is refreshed and the
// request sent once more.
func (c *Client) Do(ctx context.Context, rq Request) (*Response, error) {
	for attempt := 0; ; attempt++ {
		resp, err := c.do(ctx, rq)
		if err != nil {
			return nil, err
		}
		if resp.Status == http.StatusUnauthorized && attempt == 0 && c.Auth != nil && c.Auth.Invalidate() {
			continue
		}
		if c.Classify != nil {
			if cerr, ok := c.Classify(resp); ok {
				return resp, c.wrap(cerr)
			}
		}
		return resp, c.wrap(Classify(resp))
	}
}

func (c *Client) wrap(err error) error {
	var be *destination.BatchError
	if errors.As(err, &be) && c.Name != "" && !strings.HasPrefix(be.Err.Error(), c.Name) {
		be.Err = fmt.Errorf("%s: %w", c.Name, be.Err)
	}
	return err
}

func (c *Client) url(rq Request) (string, error) {
	var u *url.URL
	if strings.HasPrefix(rq.Path, "http://") || strings.HasPrefix(rq.Path, "https://") {
		p, err := url.Parse(rq.Path)
		if err != nil {
			return "", err
		}
		u = p
	} else {
		if c.BaseURL == nil {
			return "", errors.New("no base_url")
		}
		path, query, _ := strings.Cut(rq.Path, "?")
		cp := *c.BaseURL
		cp.Path = strings.TrimSuffix(cp.Path, "/") + "/" + strings.TrimPrefix(path, "/")
		cp.RawPath = ""
		cp.RawQuery = query
		u = &cp
	}
	if len(rq.Query) > 0 {
		q := u.Query()
		for k, vs := range rq.Query {
			for _, v := range vs {
				q.Add(k, v)
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

func (c *Client) do(ctx context.Context, rq Request) (*Response, error) {
	target, err := c.url(rq)
	if err != nil {
		return nil, &destination.BatchError{Err: fmt.Errorf("%s: %v", c.Name, err), Fatal: true}
	}
	body, ctype := rq.Body, rq.ContentType
	if body == nil && rq.JSON != nil {
		if body, err = json.Marshal(rq.JSON); err != nil {
			return nil, &destination.BatchError{Err: fmt.Errorf("%s: encoding the request: %v", c.Name, err)}
		}
		ctype = "application/json"
	}
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, rq.Method, target, bytes.NewReader(body))
	if err != nil {
		return nil, &destination.BatchError{Err: fmt.Errorf("%s: %v", c.Name, err), Fatal: true}
	}
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for k, vs := range c.Header {
		req.Header[k] = vs
	}
	for k, vs := range rq.Header {
		req.Header[k] = vs
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	req.Header.Set("User-Agent", "cdp-sync")
	if c.Auth != nil {
		if err := c.Auth.Authorize(ctx, req); err != nil {
			return nil, &destination.BatchError{Err: fmt.Errorf("%s: %v", c.Name, err), Retryable: true}
		}
	}
	shown := Redact(target, c.secrets())
	c.log("request", "method", rq.Method, "url", shown, "body", c.redactBody(body))
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		msg := err.Error()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			msg = fmt.Sprintf("no response within %v", c.Timeout)
		}
		c.log("transport error", "method", rq.Method, "url", shown, "error", Redact(msg, c.secrets()))
		return nil, &destination.BatchError{Err: fmt.Errorf("%s: %s %s: %s", c.Name, rq.Method, shown, Redact(msg, c.secrets())), Retryable: true}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, &destination.BatchError{Err: fmt.Errorf("%s: %s %s: reading the %s response: %v", c.Name, rq.Method, shown, resp.Status, err),
			Retryable: true, Status: resp.StatusCode}
	}
	c.log("response", "method", rq.Method, "url", shown, "status", resp.StatusCode,
		"elapsed", time.Since(start).Round(time.Millisecond), "body", c.redactBody(b))
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b, Method: rq.Method, URL: shown}, nil
}

func (c *Client) secrets() []string {
	if c.Auth == nil {
		return nil
	}
	return c.Auth.Secrets()
}

func (c *Client) log(msg string, args ...any) {
	if c.Logger != nil && c.Logger.Enabled(context.Background(), slog.LevelDebug) {
		c.Logger.Debug(c.Name+": "+msg, args...)
	}
}

// redactBody shortens a body for the log and hides secrets in it.
func (c *Client) redactBody(b []byte) string {
	const most = 2000
	s := string(b)
	if len(s) > most {
		s = s[:most] + fmt.Sprintf("… (%d bytes)", len(b))
	}
	return Redact(s, c.secrets())
}

// Redact replaces every secret (of 4 characters or more) in s.
func Redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
			if q := url.QueryEscape(sec); q != sec {
				s = strings.ReplaceAll(s, q, "[redacted]")
			}
		}
	}
	return s
}
