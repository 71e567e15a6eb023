#!/usr/bin/env bash
# make demo: the retail example end to end on embedded DuckDB — models,
# profiles, segments, then syncs to a local webhook receiver and HubSpot and
# Klaviyo contract servers, a change to the data (an opt-out among it), a
# second sync that sends only the difference, and a data-subject erasure
# request (`cdp forget`) that reaches every destination.
set -euo pipefail
cd "$(dirname "$0")/.."

AS_OF=2026-11-01T00:00:00Z
DEMO=.demo/retail
SECRET=whsec_ZGVtby1zZWNyZXQtZm9yLXRoZS1yZXRhaWwtZXhhbXBsZQ==

if [ -t 1 ]; then step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }; else step() { printf '\n== %s\n' "$*"; }; fi

go build -o bin/cdp ./cmd/cdp
go build -o bin/receiver ./sync/destinationtest/cmd/receiver
go build -o bin/vendors ./sync/destinationtest/cmd/vendors

rm -rf .demo
bin/cdp init "$DEMO" >/dev/null
cdp() { bin/cdp --project "$DEMO" --as-of "$AS_OF" "$@"; }

step "validate the models"
cdp validate
step "load the seed CSVs into embedded DuckDB ($DEMO/.cdp/retail.duckdb)"
cdp seed
step "build identity graph, profiles and segments"
cdp run
step "the 360° view of one customer"
cdp profile "email:$(sed -n 's/^demo_email=//p' examples/retail/testdata/demo.txt)"

# a local stand-in for the CRM's webhook endpoint, on the first free port
port=""
for p in $(seq 8787 8899); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { echo "no free port in 8787-8899 for the demo receiver" >&2; exit 1; }
export CRM_HOOK_URL="http://127.0.0.1:$port/hooks/crm" CRM_HOOK_SECRET="$SECRET"
bin/receiver -addr "127.0.0.1:$port" -secret "$SECRET" >.demo/receiver.log 2>&1 &
receiver=$!
# local stand-ins for HubSpot's and Klaviyo's APIs (contract servers that
# enforce what the vendors document), on free ports
bin/vendors -hubspot 127.0.0.1:0 -klaviyo 127.0.0.1:0 -env .demo/vendors.env >>.demo/vendors.log 2>&1 &
vendors=$!
trap 'kill $receiver $vendors 2>/dev/null || true' EXIT
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && [ -s .demo/vendors.env ] && break; sleep 0.1; done
# shellcheck disable=SC1091
. .demo/vendors.env
export HUBSPOT_PAUSED=false KLAVIYO_PAUSED=false
vendors_report() { # ask the contract servers what they hold
  local n; n=$(wc -c <.demo/vendors.log)
  kill -USR1 "$vendors"
  for _ in $(seq 50); do [ "$(wc -c <.demo/vendors.log)" -gt "$n" ] && break; sleep 0.1; done
  sleep 0.2; tail -c +$((n + 1)) .demo/vendors.log
}

step "plan the syncs: what would be sent (nothing is sent)"
cdp sync plan vip_to_crm customers_export
step "first sync: every VIP to the CRM webhook, every profile to a JSON Lines file"
cdp sync run vip_to_crm customers_export
step "VIPs to HubSpot (contacts + a static list), newsletter sign-ups to a Klaviyo list (bulk import jobs)"
cdp destinations hubspot | sed -n '/^modes:/,$p'
cdp sync run vips_to_hubspot newsletter_to_klaviyo
step "what HubSpot and Klaviyo hold now"
vendors_report

step "day 2: new orders make three customers VIPs, a VIP changes her first name, a subscriber opts out"
for f in examples/retail/changes/day2/*.csv; do
  tail -n +2 "$f" >>"$DEMO/seeds/$(basename "$f")"
done
cdp seed >/dev/null
cdp run >/dev/null
cdp sync plan vip_to_crm newsletter_to_klaviyo
step "second sync: only the difference is sent (the subscriber who opted out leaves the Klaviyo list)"
cdp sync run vip_to_crm vips_to_hubspot newsletter_to_klaviyo
step "HubSpot's list follows the segment"
vendors_report
step "sync history"
cdp sync history
step "what the receiver got (one line per batch)"
cat .demo/receiver.log

forgotten=camille.moreau@orange.fr
step "a data-subject request (GDPR art. 17): forget $forgotten"
cdp profile "email:$forgotten" | sed -n '1,/^traits/p'
cdp forget "email:$forgotten" --reason "DSR 2026-114"
step "the next run tombstones her identifiers and rebuilds every table without her"
cdp run | grep -Ei 'erasure|forget' || true
cdp profile "email:$forgotten" || true
step "the next sync erases her at every destination that had her"
n=$(wc -l <.demo/receiver.log)
cdp sync run --all
cdp forget --status
step "the webhook receiver got the erase, HubSpot's contract server the GDPR delete"
tail -n +$((n + 1)) .demo/receiver.log
vendors_report
step "what is left for you to delete in the source systems"
cdp forget --report
