#!/usr/bin/env bash
# Replying, end to end, for each vendor: `switchboard send` (a new process: open the store, put the
# reply in the outbox, commit `sending` with FULL sync, make the request, commit the answer) against
# curl posting the same request to the same sandbox, in the same run. Prints medians and ratios.
#   benches/send.sh [COUNT]     (default 50; needs curl)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-50}
command -v curl >/dev/null || { echo "curl is needed (apt-get install curl)" >&2; exit 1; }
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/switchboard
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
export SWITCHBOARD_DB=$work/db SWITCHBOARD_MYKAARMA_USERNAME=bench SWITCHBOARD_MYKAARMA_PASSWORD=bench-pass
export SWITCHBOARD_HIGHLEVEL_TOKEN=bench-token SWITCHBOARD_PARTOO_API_KEY=bench-key
"$bin" sandbox --listen 127.0.0.1:0 --highlevel-conversation lQERlgdExLcp8zmOyUkx=fbConvJordanLee01 \
  --partoo-conversation 40977=Google > "$work/sandbox.out" 2> /dev/null &
for _ in $(seq 50); do grep -q listening "$work/sandbox.out" && break; sleep 0.1; done
url=$(sed -n 's/.*listening on //p' "$work/sandbox.out")
export SWITCHBOARD_MYKAARMA_BASE_URL=$url SWITCHBOARD_HIGHLEVEL_BASE_URL=$url SWITCHBOARD_PARTOO_BASE_URL=$url
"$bin" import assets/demo/*.ndjson > /dev/null

ms() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-10s %-12s %14s %14s %10s\n' vendor "median of" "send (µs)" "curl (µs)" "send/curl"
bench() { # vendor conversation send-args… -- curl-args…
  local vendor=$1 conv=$2; shift 2
  local send_args=() curl_args=()
  while [ "$1" != -- ]; do send_args+=("$1"); shift; done; shift
  curl_args=("$@")
  : > "$work/send"; : > "$work/curl"
  for i in $(seq "$count"); do
    t=$(ms); curl -s -o /dev/null "${curl_args[@]}"
    echo $(( ($(ms) - t) / 1000 )) >> "$work/curl"
    t=$(ms); "$bin" send "$conv" "${send_args[@]}" "Your car is ready ($i)" > /dev/null
    echo $(( ($(ms) - t) / 1000 )) >> "$work/send"
  done
  local s c; s=$(median < "$work/send"); c=$(median < "$work/curl")
  awk -v v="$vendor" -v n="$count" -v s="$s" -v c="$c" 'BEGIN { printf "%-10s %-12s %14d %14d %9.2fx\n", v, n, s, c, s / c }'
}
json='content-type: application/json'
bench mykaarma mykaarma:XyXL --text -- -u bench:bench-pass -H "$json" \
  -d '{"messageAttributes":{"body":"Your car is ready","isManual":true,"protocol":"TEXT","type":"OUTGOING"},"messageSendingAttributes":{"communicationValueOfCustomer":"3105550142","sendSynchronously":false}}' \
  "$url/communications/department/3a7f1c9e2b5d8f0a4c6e9b1d3f5a7c0e2b4d6f8a1c3e5b7d9f0a2c4e6b8d0f2/user/DEFAULT/customer/XyXL2mNwhZ3Fibz8Gwa2HrMtf5AE5oEzXyXL2mNwhZ3/message"
bench highlevel highlevel:fbConvJordan --message -- -H "authorization: Bearer bench-token" -H "version: 2021-04-15" -H "$json" \
  -d '{"type":"FB","contactId":"lQERlgdExLcp8zmOyUkx","message":"Your car is ready"}' "$url/conversations/messages"
bench partoo partoo:40977 --message -- -H "x-apikey: bench-key" -H "$json" \
  -d '{"conversation_id":40977,"content_type":"Text","content":"Your car is ready"}' "$url/v2/messages"
echo "outbox entries: $("$bin" outbox --limit 10000 --json | grep -c '"status": "accepted"') accepted of $((3 * count))"
