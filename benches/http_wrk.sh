#!/usr/bin/env bash
# HTTP throughput of a cached product read, beside the server's cheapest route in the same run:
#   GET /api/v1/products/{id}  (API key checked, SDK get by id from the L1 cache)   vs   GET /health (public, no
#   SDK work)
# with wrk, 50 connections, on 127.0.0.1, against the release server on embedded SQLite.
#   ./benches/http_wrk.sh            # 10 s per route
#   DURATION=30s ./benches/http_wrk.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10s}"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }

cargo build --release --quiet -p productsmanager-cli
bin=target/release/productsmanager
data=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$data"' EXIT

# The rate limiter stays in the request path with a quota wrk cannot reach, so its cost is measured too.
export PM_DATA_DIR="$data" PM_HTTP_ADDR=127.0.0.1:0 PM_LOG=warn PM_RATE_LIMIT_PER_SECOND=100000000
"$bin" user create bench@example.com --role admin >/dev/null
key=$("$bin" apikey create --user bench@example.com --name wrk --scope catalog:read --scope catalog:write --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
auth="Authorization: Bearer $key"
"$bin" serve >"$data/serve.out" 2>"$data/serve.err" &
server=$!
for _ in $(seq 100); do grep -q "http://" "$data/serve.out" 2>/dev/null && break; sleep 0.1; done
base=$(grep -o "http://[0-9.:]*" "$data/serve.out" | head -1)
[ -n "$base" ] || { echo "server did not start: $(cat "$data/serve.err")" >&2; exit 1; }

id=$(curl -sf -X POST "$base/api/v1/products" -H "$auth" -H 'content-type: application/json' \
  -d '{"gtin": "4006381333931", "sku": "WRK-1", "title": "Benchmark pen", "status": "active"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -sf -H "$auth" "$base/api/v1/products/$id" >/dev/null # warm the cache

run() { # name url [header]
  local out; out=$(wrk -t2 -c50 -d"$DURATION" --latency ${3:+-H "$3"} "$2")
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  printf '%-40s %12s %10s %10s\n' "$1" "$rps" "$p50" "$p99"
}
printf '%-40s %12s %10s %10s\n' "route (wrk -t2 -c50 -d$DURATION)" "requests/s" "p50" "p99"
run "GET /health (baseline)" "$base/health"
run "GET /api/v1/products/{id} (cached)" "$base/api/v1/products/$id" "$auth"
