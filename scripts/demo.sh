#!/usr/bin/env bash
# make demo: the retail example end to end on embedded DuckDB — models,
# profiles, segments, then syncs to a local webhook receiver, a change to the
# data, and a second sync that sends only the difference.
set -euo pipefail
cd "$(dirname "$0")/.."

AS_OF=2026-11-01T00:00:00Z
DEMO=.demo/retail
SECRET=whsec_ZGVtby1zZWNyZXQtZm9yLXRoZS1yZXRhaWwtZXhhbXBsZQ==

if [ -t 1 ]; then step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }; else step() { printf '\n== %s\n' "$*"; }; fi

go build -o bin/cdp ./cmd/cdp
go build -o bin/receiver ./sync/destinationtest/cmd/receiver

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
trap 'kill $receiver 2>/dev/null || true' EXIT
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

step "plan the syncs: what would be sent (nothing is sent)"
cdp sync plan vip_to_crm customers_export
step "first sync: every VIP to the CRM webhook, every profile to a JSON Lines file"
cdp sync run vip_to_crm customers_export

step "day 2: new orders make three customers VIPs, a VIP changes her first name"
for f in examples/retail/changes/day2/*.csv; do
  tail -n +2 "$f" >>"$DEMO/seeds/$(basename "$f")"
done
cdp seed >/dev/null
cdp run >/dev/null
cdp sync plan vip_to_crm
step "second sync: only the difference is sent"
cdp sync run vip_to_crm
step "sync history"
cdp sync history
step "what the receiver got (one line per batch)"
cat .demo/receiver.log
