package models

import (
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones check the same on every machine, with or without system tzdata

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"
)

var (
	serveKeys  = []string{"address", "max_concurrent", "grace_period", "timezone", "models_schedule"}
	alertKeys  = []string{"name", "type", "url", "secret", "on", "rejection_share", "stale_after"}
	alertTypes = []string{AlertSlack, AlertWebhook}
	alertOns   = []string{AlertOnFailure, AlertOnRejections, AlertOnStale}
)

// Defaults of cdp.yml's `serve:` block and of each alert.
const (
	DefaultServeAddress   = "127.0.0.1:9464"
	DefaultMaxConcurrent  = 2
	DefaultGracePeriod    = 30 * time.Second
	DefaultTimeZone       = "UTC"
	DefaultRejectionShare = 0.05
	DefaultStaleAfter     = 3.0
)

// Alert types and events.
const (
	AlertSlack   = "slack"
	AlertWebhook = "webhook"

	AlertOnFailure    = "failure"    // a run failed
	AlertOnRejections = "rejections" // a run's rejected share exceeded RejectionShare
	AlertOnStale      = "stale"      // no success within StaleAfter schedule intervals
)

// scheduleParser parses sync and model schedules: 5 standard cron fields or a
// descriptor (@hourly, @every 15m, …), optionally prefixed by CRON_TZ=Area/City.
var scheduleParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// scheduleHint is the hint of every bad schedule.
const scheduleHint = "5 cron fields `minute hour day-of-month month day-of-week` such as `*/30 * * * *` or `0 6 * * 1-5`, " +
	"or @hourly, @daily, @weekly, @monthly, @yearly, `@every 15m`; prefix `CRON_TZ=Europe/Paris ` for another time zone"

// defaultServe returns the `serve:` settings used when cdp.yml sets none.
func defaultServe() *ServeConfig {
	return &ServeConfig{
		Address:       DefaultServeAddress,
		MaxConcurrent: DefaultMaxConcurrent,
		GracePeriod:   DefaultGracePeriod,
		TimeZone:      DefaultTimeZone,
		Pos:           Pos{File: ProjectFile},
	}
}

// Location returns the time zone of TimeZone, or UTC when it is unset or unknown
// (Load has reported that already).
func (c *ServeConfig) Location() *time.Location {
	if c == nil || c.TimeZone == "" {
		return time.UTC
	}
	if loc, err := time.LoadLocation(c.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

// ParseSchedule parses a schedule the way Load checks it. A schedule without a
// CRON_TZ= or TZ= prefix runs in loc (nil means UTC), e.g. Project.Serve.Location().
func ParseSchedule(spec string, loc *time.Location) (sched cron.Schedule, err error) {
	spec = strings.TrimSpace(spec)
	if loc == nil {
		loc = time.UTC
	}
	if spec != "" && !strings.HasPrefix(spec, "TZ=") && !strings.HasPrefix(spec, "CRON_TZ=") {
		spec = "CRON_TZ=" + loc.String() + " " + spec
	}
	return parseSchedule(spec)
}

// parseSchedule runs the cron parser, guarding the cases where it would panic
// or accept a schedule that cannot work.
func parseSchedule(spec string) (sched cron.Schedule, err error) {
	rest := spec
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		zone, after, ok := strings.Cut(spec, " ")
		if !ok {
			return nil, fmt.Errorf("time zone prefix %s must be followed by a space and the schedule", zone)
		}
		if _, name, _ := strings.Cut(zone, "="); name == "Local" || name == "" {
			return nil, fmt.Errorf("name the time zone in %s, e.g. CRON_TZ=Europe/Paris", zone)
		}
		rest = strings.TrimSpace(after)
		if rest == "" {
			return nil, fmt.Errorf("nothing follows the time zone prefix %s", zone)
		}
	}
	if every, ok := strings.CutPrefix(rest, "@every "); ok {
		d, perr := time.ParseDuration(strings.TrimSpace(every))
		if perr == nil && d < time.Second {
			return nil, fmt.Errorf("@every needs a duration of at least 1s, got %s", strings.TrimSpace(every))
		}
	}
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("cannot parse: %v", r)
		}
	}()
	sched, err = scheduleParser.Parse(spec)
	if err != nil {
		return nil, err
	}
	// SpecSchedule.Next gives up after 5 years: `0 0 30 2 *` never fires.
	if sched.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, fmt.Errorf("it never fires (no such date)")
	}
	return sched, nil
}

// schedule decodes and checks a cron schedule; "" when absent or bad.
func (l *loader) schedule(n *yaml.Node, what string) string {
	v, ok := l.text(n, what)
	if !ok {
		return ""
	}
	v = strings.TrimSpace(v)
	if v == "" {
		l.errorf(l.pos(n), "remove it or give a schedule such as `*/30 * * * *`", "%s is empty", what)
		return ""
	}
	if _, err := parseSchedule(v); err != nil {
		l.errorf(l.pos(n), scheduleHint, "bad schedule `%s`: %v", v, err)
		return ""
	}
	return v
}

// parseServe decodes cdp.yml's `serve:` block over the defaults already in l.p.Serve.
func (l *loader) parseServe(n *yaml.Node) {
	if isNull(n) {
		return
	}
	m, ok := l.mapping(n, "`serve`", serveKeys, false)
	if !ok {
		return
	}
	c := l.p.Serve
	c.Pos = l.pos(m.node)
	if n := m.get("address"); n != nil {
		if s, ok := l.text(n, "`address`"); ok {
			if err := checkAddress(s); err != "" {
				l.errorf(l.pos(n), "host:port, e.g. `127.0.0.1:9464`, or `:9464` for every interface", "bad address `%s`: %s", s, err)
			} else {
				c.Address = s
			}
		}
	}
	if n := m.get("max_concurrent"); n != nil {
		if i, ok := l.integer(n, "`max_concurrent`"); ok {
			if i < 1 || i > math.MaxInt32 {
				l.errorf(l.pos(n), "the number of syncs running at once, e.g. `2`", "`max_concurrent` must be at least 1, got %d", i)
			} else {
				c.MaxConcurrent = int(i)
			}
		}
	}
	if n := m.get("grace_period"); n != nil {
		if d, ok := l.goDuration(n, "`grace_period`"); ok {
			c.GracePeriod = d
		}
	}
	if n := m.get("timezone"); n != nil {
		if s, ok := l.text(n, "`timezone`"); ok {
			const hint = "an IANA time zone such as `UTC`, `Europe/Paris` or `America/New_York`"
			switch _, err := time.LoadLocation(s); {
			case s == "":
				l.errorf(l.pos(n), hint, "`timezone` is empty")
			case s == "Local":
				l.errorf(l.pos(n), hint, "`timezone: Local` depends on the machine; name the zone")
			case err != nil:
				l.errorf(l.pos(n), hint, "unknown time zone `%s`", s)
			default:
				c.TimeZone = s
			}
		}
	}
	if n := m.get("models_schedule"); n != nil {
		c.ModelsSchedule = l.schedule(n, "`models_schedule`")
	}
}

// checkAddress returns why s is not a host:port listen address, or "".
func checkAddress(s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if ae, ok := err.(*net.AddrError); ok {
			return ae.Err
		}
		return err.Error()
	}
	if strings.ContainsAny(host, " /") {
		return "bad host"
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return "the port must be a number from 0 to 65535"
	}
	return ""
}

// goDuration decodes a positive Go duration such as 30s or 2m.
func (l *loader) goDuration(n *yaml.Node, what string) (time.Duration, bool) {
	v, ok := l.scalar(n, what)
	if !ok {
		return 0, false
	}
	const hint = "a positive duration with a unit, e.g. `30s`, `2m` or `1m30s`"
	s, isStr := v.(string)
	if !isStr {
		h := hint
		if i, isInt := v.(int64); isInt {
			h = "add a unit, e.g. `" + strconv.FormatInt(i, 10) + "s`"
		}
		l.errorf(l.pos(n), h, "%s must be a duration, got %s", what, describeValue(v))
		return 0, false
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d <= 0 {
		l.errorf(l.pos(n), hint, "bad duration `%s` for %s", s, what)
		return 0, false
	}
	return d, true
}

// parseAlert decodes one item of cdp.yml's `alerts:`.
func (l *loader) parseAlert(n *yaml.Node) {
	m, ok := l.mapping(n, itemWhat("alert", n), alertKeys, false)
	if !ok {
		return
	}
	a := &Alert{Pos: l.pos(m.node), On: append([]string(nil), alertOns...),
		RejectionShare: DefaultRejectionShare, StaleAfter: DefaultStaleAfter}
	name, namePos := l.name(m, "alert")
	a.Name = name
	if m.has("type") {
		a.Type = l.optEnum(m, "type", "alert type", alertTypes, "")
	} else {
		l.errorf(a.Pos, "`type: slack` or `type: webhook`", "%s needs a `type`", m.what)
	}
	if n := m.get("url"); n != nil {
		// The URL is often a secret (Slack webhooks): messages never echo it.
		if s, ok := l.text(n, "`url`"); ok {
			if rest, ok := cutScheme(s); !ok || rest == "" || strings.HasPrefix(rest, "/") {
				l.errorf(l.pos(n), "e.g. `url: \"${SLACK_WEBHOOK_URL}\"` or `https://hooks.example.com/cdp`",
					"`url` of %s must be an http:// or https:// URL", m.what)
			} else {
				a.URL = s
			}
		}
	} else {
		l.errorf(a.Pos, "e.g. `url: \"${SLACK_WEBHOOK_URL}\"`", "%s needs a `url`", m.what)
	}
	if n := m.get("secret"); n != nil {
		if s, ok := l.text(n, "`secret`"); ok {
			switch {
			case a.Type == AlertSlack:
				l.errorf(l.pos(m.vals["secret"].k), "remove it: Slack messages are not signed; use `type: webhook` for signed alerts",
					"`secret` is only for webhook alerts, %s is a slack alert", m.what)
			case s == "":
				l.errorf(l.pos(n), "remove it or set it, e.g. `secret: \"${ALERT_SECRET}\"`", "`secret` is empty in %s", m.what)
			default:
				a.Secret = s
			}
		}
	}
	onKnown := true // whether a.On is what the user meant, for the warnings below
	if n := m.get("on"); n != nil {
		a.On, onKnown = l.alertOn(n, m.what)
	}
	if n := m.get("rejection_share"); n != nil {
		if f, ok := l.share(n, "`rejection_share`"); ok {
			a.RejectionShare = f
		}
		if onKnown && !contains(a.On, AlertOnRejections) {
			l.warnf(l.pos(m.vals["rejection_share"].k), "add `rejections` to `on`, or remove it",
				"`rejection_share` has no effect: %s is not `on: rejections`", m.what)
		}
	}
	if n := m.get("stale_after"); n != nil {
		if f, ok := l.number(n, "`stale_after`"); ok {
			if f <= 0 {
				l.errorf(l.pos(n), "a number of schedule intervals, e.g. `3`", "`stale_after` must be above 0, got %s", strconv.FormatFloat(f, 'g', -1, 64))
			} else {
				a.StaleAfter = f
			}
		}
		if onKnown && !contains(a.On, AlertOnStale) {
			l.warnf(l.pos(m.vals["stale_after"].k), "add `stale` to `on`, or remove it",
				"`stale_after` has no effect: %s is not `on: stale`", m.what)
		}
	}
	if l.declare("alert", name, namePos) {
		l.p.Alerts = append(l.p.Alerts, a)
	}
}

// cutScheme strips a leading http:// or https:// (any case).
func cutScheme(s string) (string, bool) {
	for _, scheme := range []string{"http://", "https://"} {
		if len(s) >= len(scheme) && strings.EqualFold(s[:len(scheme)], scheme) {
			return s[len(scheme):], true
		}
	}
	return s, false
}

// alertOn decodes an alert's `on:` list, keeping file order; clean is false
// when an entry was wrong.
func (l *loader) alertOn(n *yaml.Node, what string) (out []string, clean bool) {
	if deref(n).Kind != yaml.SequenceNode {
		l.errorf(l.pos(n), "write a list, e.g. `on: [failure, stale]`", "`on` must be a list, got %s", describe(n))
		return nil, false
	}
	items, _ := l.list(n, "`on`")
	if len(items) == 0 {
		l.errorf(l.pos(n), "list at least one of "+joinTicks(alertOns)+", or remove `on` for all of them", "`on` of %s is empty", what)
		return nil, false
	}
	clean = true
	for _, item := range items {
		s, ok := l.text(item, "`on` entries")
		if !ok || !l.checkEnum(item, s, "alert event", alertOns) {
			clean = false
			continue
		}
		if contains(out, s) {
			l.errorf(l.pos(item), "remove one of them", "`%s` is listed twice in `on`", s)
			continue
		}
		out = append(out, s)
	}
	return out, clean
}

// number decodes an integer or a finite float.
func (l *loader) number(n *yaml.Node, what string) (float64, bool) {
	v, ok := l.scalar(n, what)
	if !ok {
		return 0, false
	}
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case float64:
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			return v, true
		}
	}
	l.errorf(l.pos(n), "", "%s must be a number, got %s", what, describeValue(v))
	return 0, false
}

// share decodes a share in (0, 1]: a fraction such as 0.05 or a percentage such as 5%.
func (l *loader) share(n *yaml.Node, what string) (float64, bool) {
	v, ok := l.scalar(n, what)
	if !ok {
		return 0, false
	}
	const hint = "a percentage such as `5%` or a fraction such as `0.05`, above 0 and at most 100%"
	var f float64
	switch v := v.(type) {
	case string:
		pct, isPct := strings.CutSuffix(strings.TrimSpace(v), "%")
		p, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
		if !isPct || err != nil || math.IsNaN(p) || p <= 0 || p > 100 {
			l.errorf(l.pos(n), hint, "bad %s `%s`", what, v)
			return 0, false
		}
		return p / 100, true
	case int64:
		f = float64(v)
	case float64:
		f = v
	default:
		l.errorf(l.pos(n), hint, "bad %s: got %s", what, describeValue(v))
		return 0, false
	}
	if math.IsNaN(f) || f <= 0 || f > 1 {
		h := hint
		if f > 1 && f <= 100 {
			h = "as a fraction it must be at most 1; did you mean `" + strconv.FormatFloat(f, 'f', -1, 64) + "%`?"
		}
		l.errorf(l.pos(n), h, "%s %s is out of range (0, 1]", what, strconv.FormatFloat(f, 'g', -1, 64))
		return 0, false
	}
	return f, true
}
