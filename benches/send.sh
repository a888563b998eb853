#!/usr/bin/env bash
# Replying, end to end: `switchboard send` (a new process: open the store, put the reply in the
# outbox, commit `sending` with FULL sync, POST, commit the answer) against curl posting the same
# request to the same sandbox, in the same run. Prints the medians and the ratio.
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
"$bin" sandbox --listen 127.0.0.1:0 > "$work/sandbox.out" 2> /dev/null &
for _ in $(seq 50); do grep -q listening "$work/sandbox.out" && break; sleep 0.1; done
url=$(sed -n 's/.*listening on //p' "$work/sandbox.out")
export SWITCHBOARD_MYKAARMA_BASE_URL=$url
"$bin" import assets/demo/mykaarma.ndjson > /dev/null
conv=mykaarma:XyXL
body='{"messageAttributes":{"body":"Your car is ready","isManual":true,"protocol":"TEXT","type":"OUTGOING"},"messageSendingAttributes":{"communicationValueOfCustomer":"3105550142","sendSynchronously":false}}'
path="/communications/department/3a7f1c9e2b5d8f0a4c6e9b1d3f5a7c0e2b4d6f8a1c3e5b7d9f0a2c4e6b8d0f2/user/DEFAULT/customer/XyXL2mNwhZ3Fibz8Gwa2HrMtf5AE5oEzXyXL2mNwhZ3/message"

ms() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: > "$work/send" ; : > "$work/curl"
for i in $(seq "$count"); do
  t=$(ms); curl -s -o /dev/null -u bench:bench-pass -H 'content-type: application/json' -d "$body" "$url$path"
  echo $(( ($(ms) - t) / 1000 )) >> "$work/curl"
  t=$(ms); "$bin" send "$conv" --text "Your car is ready ($i)" > /dev/null
  echo $(( ($(ms) - t) / 1000 )) >> "$work/send"
done
s=$(median < "$work/send"); c=$(median < "$work/curl")
printf '%-34s %10s\n' "median of $count, microseconds" ""
printf '%-34s %10d\n' "switchboard send (process, outbox)" "$s"
printf '%-34s %10d\n' "curl, same request" "$c"
awk -v s="$s" -v c="$c" 'BEGIN { printf "%-34s %10.2fx\n", "send / curl", s / c }'
echo "outbox entries: $("$bin" outbox --json | grep -c '"status": "accepted"') accepted"
