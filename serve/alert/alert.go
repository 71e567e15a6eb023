package alert

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/cdpkit/cdp/serve/daemon"
	"github.com/cdpkit/cdp/serve/schedule"
	"github.com/cdpkit/cdp/sync/destinations/webhook"
)

// Alert kinds (cdp.yml alerts[].on).
const (
	KindFailure    = "failure"
	KindRejections = "rejections"
	KindStale      = "stale"
)

// Channel is one configured alert destination.
type Channel struct {
	Name           string
	Type           string // slack | webhook
	URL            string
	Secret         string   // webhook: Standard Webhooks secret
	On             []string // kinds; empty: all three
	RejectionShare float64  // default 0.05
	StaleAfter     float64  // schedule intervals; default 3
}

func (c Channel) wants(kind string) bool {
	if len(c.On) == 0 {
		return true
	}
	for _, k := range c.On {
		if k == kind {
			return true
		}
	}
	return false
}

// Message is one alert as the webhook channel posts it (JSON).
type Message struct {
	Type      string    `json:"type"` // "cdp.alert" or "cdp.alert.recovered"
	Kind      string    `json:"kind"`
	Sync      string    `json:"sync"`
	RunID     string    `json:"run_id,omitempty"`
	Text      string    `json:"text"`
	Timestamp time.Time `json:"timestamp"`
}

type key struct{ channel, sync, kind string }

type tracked struct {
	lastSuccess time.Time
	since       time.Time // when tracking began (for syncs that never succeeded)
	interval    time.Duration
}

// Notifier is a daemon.Observer that sends alerts.
type Notifier struct {
	clock    schedule.Clock
	log      *slog.Logger
	client   *http.Client
	channels []Channel
	mu       sync.Mutex
	open     map[key]bool
	syncs    map[string]*tracked
	queue    chan send
	wg       sync.WaitGroup
}

type send struct {
	ch  Channel
	msg Message
}

// New starts a notifier; Close stops its sender.
func New(channels []Channel, clock schedule.Clock, log *slog.Logger) *Notifier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n := &Notifier{clock: clock, log: log, client: &http.Client{Timeout: 10 * time.Second},
		open: map[key]bool{}, syncs: map[string]*tracked{}, queue: make(chan send, 256)}
	n.SetChannels(channels)
	n.wg.Add(1)
	go n.sender()
	return n
}

// SetChannels replaces the channels (reload); open alerts are kept.
func (n *Notifier) SetChannels(channels []Channel) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.channels = nil
	for _, c := range channels {
		if c.RejectionShare <= 0 {
			c.RejectionShare = 0.05
		}
		if c.StaleAfter <= 0 {
			c.StaleAfter = 3
		}
		n.channels = append(n.channels, c)
	}
}

// Track registers a sync for stale checks with its last success (zero:
// unknown) and its schedule interval.
func (n *Notifier) Track(sync string, lastSuccess time.Time, interval time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	t := n.syncs[sync]
	if t == nil {
		t = &tracked{since: n.clock.Now()}
		n.syncs[sync] = t
	}
	if lastSuccess.After(t.lastSuccess) {
		t.lastSuccess = lastSuccess
	}
	t.interval = interval
}

// SyncDone implements daemon.Observer.
func (n *Notifier) SyncDone(o daemon.SyncOutcome) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case o.Status == "failed" || o.Status == "aborted" || o.Status == daemon.StatusModelsFailed:
		if o.Shutdown || errors.Is(o.Err, context.Canceled) {
			return // shutdown, not a failure
		}
		text := fmt.Sprintf("cdp: sync %s %s (run %s)", o.Sync, o.Status, o.RunID)
		if o.Err != nil {
			text += ": " + o.Err.Error()
		}
		n.raise(KindFailure, o, text, func(Channel) bool { return true })
	case o.Succeeded():
		if t := n.syncs[o.Sync]; t != nil {
			t.lastSuccess = o.Finished
		} else {
			n.syncs[o.Sync] = &tracked{lastSuccess: o.Finished, since: o.Finished, interval: o.Interval}
		}
		n.recover(KindFailure, o)
		n.recover(KindStale, o)
		r := o.Result
		if r == nil {
			return
		}
		total := r.Plan.Total()
		share := 0.0
		if total > 0 {
			share = float64(r.Failed) / float64(total)
		}
		text := fmt.Sprintf("cdp: sync %s rejected %d of %d records (%.1f%%) in run %s", o.Sync, r.Failed, total, 100*share, o.RunID)
		n.raise(KindRejections, o, text, func(c Channel) bool { return r.Failed > 0 && share > c.RejectionShare })
		n.recoverIf(KindRejections, o, func(c Channel) bool { return share <= c.RejectionShare })
	}
}

// ModelsDone implements daemon.Observer (model failures surface through the
// syncs that needed them).
func (n *Notifier) ModelsDone(daemon.ModelOutcome) {}

// CheckStale raises a stale alert for every tracked sync without success
// within StaleAfter of its schedule intervals.
func (n *Notifier) CheckStale() {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := n.clock.Now()
	for name, t := range n.syncs {
		if t.interval <= 0 {
			continue
		}
		ref := t.lastSuccess
		if ref.IsZero() {
			ref = t.since
		}
		age := now.Sub(ref)
		o := daemon.SyncOutcome{Sync: name}
		text := fmt.Sprintf("cdp: sync %s has not succeeded for %s", name, age.Round(time.Second))
		if !t.lastSuccess.IsZero() {
			text += " (last success " + t.lastSuccess.UTC().Format(time.RFC3339) + ")"
		}
		n.raise(KindStale, o, text, func(c Channel) bool {
			return age > time.Duration(c.StaleAfter*float64(t.interval))
		})
	}
}

// raise queues an alert on each channel that wants kind, cond holds, and has
// no open alert of that kind for the sync (mu held).
func (n *Notifier) raise(kind string, o daemon.SyncOutcome, text string, cond func(Channel) bool) {
	for _, c := range n.channels {
		k := key{c.Name, o.Sync, kind}
		if !c.wants(kind) || n.open[k] || !cond(c) {
			continue
		}
		n.open[k] = true
		n.enqueue(c, Message{Type: "cdp.alert", Kind: kind, Sync: o.Sync, RunID: o.RunID, Text: text, Timestamp: n.clock.Now().UTC()})
	}
}

func (n *Notifier) recover(kind string, o daemon.SyncOutcome) {
	n.recoverIf(kind, o, func(Channel) bool { return true })
}

func (n *Notifier) recoverIf(kind string, o daemon.SyncOutcome, cond func(Channel) bool) {
	for _, c := range n.channels {
		k := key{c.Name, o.Sync, kind}
		if !n.open[k] || !cond(c) {
			continue
		}
		delete(n.open, k)
		n.enqueue(c, Message{Type: "cdp.alert.recovered", Kind: kind, Sync: o.Sync, RunID: o.RunID,
			Text: fmt.Sprintf("cdp: sync %s recovered (%s) in run %s", o.Sync, kind, o.RunID), Timestamp: n.clock.Now().UTC()})
	}
}

func (n *Notifier) enqueue(c Channel, m Message) {
	n.log.Warn("alert", "channel", c.Name, "kind", m.Kind, "sync", m.Sync, "run_id", m.RunID, "type", m.Type)
	select {
	case n.queue <- send{c, m}:
	default:
		n.log.Error("alert dropped: the send queue is full", "channel", c.Name, "sync", m.Sync)
	}
}

func (n *Notifier) sender() {
	defer n.wg.Done()
	for s := range n.queue {
		var err error
		for attempt := range 3 {
			if err = n.post(s.ch, s.msg); err == nil {
				break
			}
			time.Sleep(time.Duration(attempt+1) * 500 * time.Millisecond)
		}
		if err != nil {
			n.log.Error("alert not delivered", "channel", s.ch.Name, "host", Host(s.ch.URL), "sync", s.msg.Sync, "error", err)
		}
	}
}

// Close sends what is queued and stops the sender.
func (n *Notifier) Close() {
	close(n.queue)
	n.wg.Wait()
}

func (n *Notifier) post(c Channel, m Message) error {
	var body []byte
	var err error
	if c.Type == "slack" {
		body, err = json.Marshal(map[string]string{"text": m.Text})
	} else {
		body, err = json.Marshal(m)
	}
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return errors.New("invalid URL") // the URL may hold a token: do not echo it
	}
	req.Header.Set("Content-Type", "application/json")
	if c.Type == "webhook" && c.Secret != "" {
		key, err := webhook.DecodeSecret(c.Secret)
		if err != nil {
			return err
		}
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		id := "msg_" + hex.EncodeToString(b)
		ts := strconv.FormatInt(n.clock.Now().Unix(), 10)
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", ts)
		req.Header.Set("webhook-signature", webhook.Sign(key, id, ts, body))
	}
	resp, err := n.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return ue.Err // without the URL
		}
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// Host returns a URL's host only: userinfo, path (Slack tokens live there)
// and query are secrets.
func Host(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	return u.Host
}
