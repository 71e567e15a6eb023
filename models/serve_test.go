package models

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// cdpWith returns the default cdp.yml followed by extra.
func cdpWith(extra string) map[string]string {
	return map[string]string{"cdp.yml": defaultCdpYML + extra}
}

func TestServeErrors(t *testing.T) {
	runErrorCases(t, []errorCase{
		{name: "unknown key", files: cdpWith("serve:\n  adress: x\n  max_concurent: 3\n"), want: []want{
			{"cdp.yml:5:3: error", "unknown key `adress` in `serve`", "did you mean `address`?"},
			{"cdp.yml:6:3: error", "unknown key `max_concurent` in `serve`", "did you mean `max_concurrent`?"},
		}},
		{name: "top-level typo", files: cdpWith("serv: {}\nalert: []\n"), want: []want{
			{"cdp.yml:4:1: error", "unknown key `serv` in cdp.yml", "did you mean `serve`?"},
			{"cdp.yml:5:1: error", "unknown key `alert` in cdp.yml", "did you mean `alerts`?"},
		}},
		{name: "not a map", files: cdpWith("serve: [a]\n"), want: []want{
			{"cdp.yml:4:8: error", "`serve` must be a map, got a list", ""},
		}},
		{name: "bad values, all reported", files: cdpWith(`serve:
  address: localhost
  max_concurrent: 0
  grace_period: 30
  timezone: Europe/Pariss
  models_schedule: "0 6 * *"
`), want: []want{
			{"cdp.yml:5:12: error", "bad address `localhost`: missing port in address", "127.0.0.1:9464"},
			{"cdp.yml:6:19: error", "`max_concurrent` must be at least 1, got 0", ""},
			{"cdp.yml:7:17: error", "`grace_period` must be a duration, got an integer", "`30s`"},
			{"cdp.yml:8:13: error", "unknown time zone `Europe/Pariss`", "Europe/Paris"},
			{"cdp.yml:9:20: error", "bad schedule `0 6 * *`: expected exactly 5 fields, found 4", "@every 15m"},
		}},
		{name: "more bad values", files: cdpWith(`serve:
  address: "127.0.0.1:99999"
  max_concurrent: two
  grace_period: 0s
  timezone: Local
  models_schedule: ""
`), want: []want{
			{"cdp.yml:5:12: error", "bad address `127.0.0.1:99999`: the port must be a number", ""},
			{"cdp.yml:6:19: error", "`max_concurrent` must be an integer", ""},
			{"cdp.yml:7:17: error", "bad duration `0s` for `grace_period`", "1m30s"},
			{"cdp.yml:8:13: error", "`timezone: Local` depends on the machine", "IANA"},
			{"cdp.yml:9:20: error", "`models_schedule` is empty", ""},
		}},
	})
}

func TestAlertErrors(t *testing.T) {
	runErrorCases(t, []errorCase{
		{name: "required keys and unknown keys", files: cdpWith(`alerts:
  - name: a1
  - type: slack
    url: https://hooks.slack.com/x
  - { name: a3, type: slack, url: "https://x", chanel: ops }
`), want: []want{
			{"cdp.yml:5:5: error", "alert `a1` needs a `type`", "type: webhook"},
			{"cdp.yml:5:5: error", "alert `a1` needs a `url`", "SLACK_WEBHOOK_URL"},
			{"cdp.yml:6:5: error", "alert needs a `name`", ""},
			{"cdp.yml:8:48: error", "unknown key `chanel` in alert `a3`", "known keys: name, type, url"},
		}},
		{name: "bad values", files: cdpWith(`alerts:
  - name: Ops-Slack
    type: slak
    url: hooks.slack.com/x
  - name: hook
    type: webhook
    url: "ftp://x"
    on: [failure, rejection, failure]
    rejection_share: 5
    stale_after: 0
  - { name: hook, type: slack, url: "https://x", secret: s }
  - { name: h2, type: webhook, url: "https://", on: [] }
  - { name: h3, type: webhook, url: "https://x", on: failure, rejection_share: 120%, stale_after: soon }
  - { name: h4, type: webhook, url: "https://x", secret: "" }
`), want: []want{
			{"cdp.yml:5:11: error", "bad alert name `Ops-Slack`", "ops_slack"},
			{"cdp.yml:6:11: error", "unknown alert type `slak`", "did you mean `slack`?"},
			{"cdp.yml:7:10: error", "`url` of alert must be an http:// or https:// URL", ""},
			{"cdp.yml:10:10: error", "`url` of alert `hook` must be an http:// or https:// URL", ""},
			{"cdp.yml:11:19: error", "unknown alert event `rejection`", "did you mean `rejections`?"},
			{"cdp.yml:11:30: error", "`failure` is listed twice in `on`", ""},
			{"cdp.yml:12:22: error", "`rejection_share` 5 is out of range (0, 1]", "did you mean `5%`?"},
			{"cdp.yml:13:18: error", "`stale_after` must be above 0, got 0", ""},
			{"cdp.yml:14:13: error", "duplicate alert `hook` (first declared at cdp.yml:8:11)", ""},
			{"cdp.yml:14:50: error", "`secret` is only for webhook alerts, alert `hook` is a slack alert", "Slack messages are not signed"},
			{"cdp.yml:15:37: error", "`url` of alert `h2` must be an http:// or https:// URL", ""},
			{"cdp.yml:15:53: error", "`on` of alert `h2` is empty", "`failure`"},
			{"cdp.yml:16:54: error", "`on` must be a list, got a string", "[failure, stale]"},
			{"cdp.yml:16:80: error", "bad `rejection_share` `120%`", "5%"},
			{"cdp.yml:16:99: error", "`stale_after` must be a number", ""},
			{"cdp.yml:17:58: error", "`secret` is empty in alert `h4`", ""},
		}},
		{name: "alerts not a list", files: cdpWith("alerts: { name: x }\n"), want: []want{
			{"cdp.yml:4:9: error", "`alerts` must be a list, got a map", "- name:"},
		}},
		{name: "unset url variable", files: cdpWith("alerts:\n  - { name: a, type: slack, url: \"${SLACK_URL}\" }\n"), want: []want{
			{"cdp.yml:5:34: error", "environment variable `SLACK_URL` is not set", ""},
		}},
		{name: "thresholds without their event warn", files: cdpWith(`alerts:
  - { name: a, type: webhook, url: "https://x", on: [failure], rejection_share: 10%, stale_after: 2 }
`), want: []want{
			{"cdp.yml:5:64: warning", "`rejection_share` has no effect: alert `a` is not `on: rejections`", ""},
			{"cdp.yml:5:86: warning", "`stale_after` has no effect: alert `a` is not `on: stale`", ""},
		}},
		{name: "serve and alerts belong in cdp.yml", files: map[string]string{"models/t.yml": "serve: {}\n"}, want: []want{
			{"models/t.yml:1:1: error", "unknown key `serve` in model file", ""},
		}},
	})
}

func TestAlertURLIsNotEchoed(t *testing.T) {
	_, ds := load(t, cdpWith("alerts:\n  - { name: a, type: slack, url: \"hooks.slack.com/services/SECRET\" }\n"))
	if !ds.HasErrors() || strings.Contains(ds.Error(), "SECRET") {
		t.Fatalf("want an error that hides the url, got:\n%s", ds.Error())
	}
}

func TestPausedAndDependsOnRunErrors(t *testing.T) {
	runErrorCases(t, []errorCase{
		{name: "booleans", files: map[string]string{"models/t.yml": `destinations:
  - { name: d1, type: webhook, paused: yes }
  - { name: d2, type: webhook, pasued: true }
syncs:
  - { name: s1, all_profiles: true, destination: hook, key: email, paused: 1, depends_on_run: "no" }
  - { name: s2, all_profiles: true, destination: hook, key: email, depends_on: false }
`}, want: []want{
			{"models/t.yml:2:40: error", "`paused` must be a boolean", "`true` or `false`"},
			{"models/t.yml:5:76: error", "`paused` must be a boolean", ""},
			{"models/t.yml:5:95: error", "`depends_on_run` must be a boolean", ""},
			{"models/t.yml:6:68: error", "unknown key `depends_on` in sync `s2`", "did you mean `depends_on_run`?"},
		}},
	})
}

func TestScheduleErrors(t *testing.T) {
	sync := func(schedule string) string {
		return "  - { name: s" + "x, all_profiles: true, destination: hook, key: email, schedule: \"" + schedule + "\" }\n"
	}
	for _, tc := range []struct {
		schedule, msg string
	}{
		{"* * * * * *", "expected exactly 5 fields, found 6"},
		{"60 * * * *", "end of range (60) above maximum (59)"},
		{"*/0 * * * *", "step of range should be a positive number"},
		{"0 6 * * MON-FRY", "failed to parse int from FRY"},
		{"@daly", "unrecognized descriptor: @daly"},
		{"@every 10", "failed to parse duration @every 10"},
		{"@every 500ms", "@every needs a duration of at least 1s"},
		{"@every -5m", "@every needs a duration of at least 1s"},
		{"CRON_TZ=Europe/Nowhere 0 6 * * *", "provided bad location Europe/Nowhere"},
		{"CRON_TZ=Europe/Paris", "time zone prefix CRON_TZ=Europe/Paris must be followed by a space"},
		{"TZ=UTC ", "time zone prefix TZ=UTC must be followed by a space"},
		{"0 0 30 2 *", "it never fires"},
		{"CRON_TZ=Local 0 6 * * *", "name the time zone in CRON_TZ=Local"},
	} {
		t.Run(tc.schedule, func(t *testing.T) {
			_, ds := load(t, map[string]string{"models/base.yml": baseModels, "models/t.yml": "syncs:\n" + sync(tc.schedule)})
			if len(ds) != 1 || !hasDiag(ds, "models/t.yml:2:78: error", "bad schedule `"+strings.TrimSpace(tc.schedule)+"`: "+tc.msg) ||
				!strings.Contains(ds[0].Hint, "CRON_TZ=Europe/Paris") || !strings.Contains(ds[0].Hint, "*/30 * * * *") {
				t.Fatalf("got:\n%s", ds.Error())
			}
		})
	}
	for _, ok := range []string{
		"*/30 * * * *", "0 6 * * 1-5", "0 6 * * MON-FRI", "15 2 1,15 JAN-JUN ?", "@hourly", "@daily", "@midnight", "@weekly",
		"@monthly", "@yearly", "@annually", "@every 15m", "@every 1h30m", "CRON_TZ=Europe/Paris 0 6 * * *",
		"TZ=America/New_York 30 9 * * 1-5", "CRON_TZ=Asia/Tokyo @daily", " 0 6 * * * ",
	} {
		t.Run(ok, func(t *testing.T) {
			p, ds := load(t, map[string]string{"models/base.yml": baseModels, "models/t.yml": "syncs:\n" + sync(ok)})
			if len(ds) != 0 {
				t.Fatalf("unexpected diagnostics:\n%s", ds.Error())
			}
			if got := p.Sync("sx").Schedule; got != strings.TrimSpace(ok) {
				t.Errorf("Schedule = %q", got)
			}
		})
	}
}

func TestServeDefaults(t *testing.T) {
	want := &ServeConfig{Address: "127.0.0.1:9464", MaxConcurrent: 2, GracePeriod: 30 * time.Second, TimeZone: "UTC", Pos: Pos{File: "cdp.yml"}}
	for name, files := range map[string]map[string]string{
		"absent":  {},
		"null":    cdpWith("serve:\n"),
		"partial": cdpWith("serve: { max_concurrent: 2 }\n"),
	} {
		t.Run(name, func(t *testing.T) {
			p, ds := load(t, files)
			if ds.HasErrors() {
				t.Fatal(ds.Error())
			}
			got := *p.Serve
			got.Pos.Line, got.Pos.Col = 0, 0
			if !reflect.DeepEqual(&got, want) || p.Alerts != nil {
				t.Errorf("serve = %+v, alerts = %v", got, p.Alerts)
			}
			if p.Serve.Location() != time.UTC {
				t.Errorf("Location = %v", p.Serve.Location())
			}
		})
	}
	// Even a project whose cdp.yml cannot be read has the defaults.
	if p, _ := Load(t.TempDir()); p.Serve == nil || *p.Serve != *defaultServe() {
		t.Errorf("serve of a missing project: %+v", p.Serve)
	}
}

func TestServeValues(t *testing.T) {
	p, ds := LoadWithOptions(writeProject(t, cdpWith(`serve:
  address: ":${PORT}"
  max_concurrent: 8
  grace_period: 1m30s
  timezone: America/New_York
  models_schedule: "@every 2h"
alerts:
  - { name: a, type: webhook, url: "HTTPS://x.example", on: [rejections, failure], rejection_share: 0.5 }
  - { name: b, type: slack, url: "http://x", rejection_share: 1, stale_after: 10 }
`)), LoadOptions{Getenv: mapEnv(map[string]string{"PORT": "8080"})})
	if len(ds) != 0 {
		t.Fatal(ds.Error())
	}
	s := p.Serve
	if s.Address != ":8080" || s.MaxConcurrent != 8 || s.GracePeriod != 90*time.Second || s.TimeZone != "America/New_York" ||
		s.ModelsSchedule != "@every 2h" || s.Pos.String() != "cdp.yml:5:3" || s.Location().String() != "America/New_York" {
		t.Errorf("serve = %+v", s)
	}
	want := []*Alert{
		{Name: "a", Type: "webhook", URL: "HTTPS://x.example", On: []string{"rejections", "failure"}, RejectionShare: 0.5, StaleAfter: 3, Pos: Pos{"cdp.yml", 11, 5}},
		{Name: "b", Type: "slack", URL: "http://x", On: []string{"failure", "rejections", "stale"}, RejectionShare: 1, StaleAfter: 10, Pos: Pos{"cdp.yml", 12, 5}},
	}
	if !reflect.DeepEqual(p.Alerts, want) {
		t.Errorf("alerts = %+v / %+v", *p.Alerts[0], *p.Alerts[1])
	}
}

func TestPausedAndDependsOnRunDefaults(t *testing.T) {
	p, ds := load(t, map[string]string{"models/base.yml": baseModels, "models/t.yml": `destinations:
  - { name: off, type: webhook, paused: true }
syncs:
  - { name: s1, all_profiles: true, destination: hook, key: email }
  - { name: s2, all_profiles: true, destination: off, key: email, paused: true, depends_on_run: false }
`})
	if len(ds) != 0 {
		t.Fatal(ds.Error())
	}
	if d := p.Destination("hook"); d.Paused {
		t.Error("destinations are not paused by default")
	}
	if d := p.Destination("off"); !d.Paused || len(d.Settings) != 0 {
		t.Errorf("paused is not a setting: %+v", d)
	}
	if s := p.Sync("s1"); s.Paused || !s.DependsOnRun {
		t.Errorf("sync defaults: paused %v, depends_on_run %v", s.Paused, s.DependsOnRun)
	}
	if s := p.Sync("s2"); !s.Paused || s.DependsOnRun {
		t.Errorf("sync values: paused %v, depends_on_run %v", s.Paused, s.DependsOnRun)
	}
}

func TestParseSchedule(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2024, 1, 15, 12, 0, 0, 0, time.UTC) // a Monday, 13:00 in Paris
	for _, tc := range []struct {
		spec string
		loc  *time.Location
		want time.Time
	}{
		{"0 6 * * *", nil, time.Date(2024, 1, 16, 6, 0, 0, 0, time.UTC)},
		{"0 6 * * *", paris, time.Date(2024, 1, 16, 5, 0, 0, 0, time.UTC)},
		{"CRON_TZ=America/New_York 0 6 * * *", paris, time.Date(2024, 1, 16, 11, 0, 0, 0, time.UTC)},
		{"@daily", paris, time.Date(2024, 1, 15, 23, 0, 0, 0, time.UTC)},
		{"@every 15m", paris, from.Add(15 * time.Minute)},
	} {
		sched, err := ParseSchedule(tc.spec, tc.loc)
		if err != nil {
			t.Errorf("%s: %v", tc.spec, err)
			continue
		}
		if got := sched.Next(from); !got.Equal(tc.want) {
			t.Errorf("%s in %v: next = %v, want %v", tc.spec, tc.loc, got.UTC(), tc.want)
		}
	}
	for _, bad := range []string{"", "TZ=UTC", "* * * * * *"} {
		if _, err := ParseSchedule(bad, paris); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}
