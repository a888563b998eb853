#!/usr/bin/env bash
# Receiver throughput: signed ~4 KiB myKaarma deliveries with durable commit, against a do-nothing
# 200 endpoint of the same server, in the same run. Prints both and their ratio, and the bound on
# the durable route: the append path alone, every fold held until the receiver stops.
#   benches/receiver.sh [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/receiver_load.sh
seconds=${1:-10}
connections=${2:-64}
threads=2

if ! command -v wrk >/dev/null; then
  echo "receiver bench: installing wrk (Debian package)" >&2
  { apt-get update -qq && apt-get install -y -qq wrk; } >/dev/null 2>&1 ||
    { echo "receiver bench: wrk is missing and could not be installed (apt-get install wrk)" >&2; exit 1; }
fi
cargo build --release --quiet
bin=target/release/switchboard
work=$(mktemp -d)
server=""
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

secret=bench-secret-$RANDOM
printf '[receiver.mykaarma]\nsignature_secret = "%s"\n' "$secret" > "$work/config.toml"
chmod 600 "$work/config.toml"
# Enough distinct events that none repeats at the rate this machine reaches.
"$bin" gen --signed-mykaarma "$secret" --messages "${BENCH_EVENTS:-200000}" --out "$work/signed.tsv"

# measure NAME PATH: wrk into NAME.txt, and what it and the server spent meanwhile.
measure() {
  WRK_THREADS=$threads wrk_costed "$server" "$work/$1.txt" -t"$threads" -c"$connections" -d"${seconds}s" --latency \
    -s benches/post_signed.lua "$url$2" -- "$work/signed.tsv"
}
start_server
measure noop /noop
measure durable /webhooks/mykaarma
stop_server

rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
p99() { awk '$1 == "99%" {print $2}' "$1"; }
non2xx() { awk '/Non-2xx/ {print $NF}' "$1"; }
stored=$("$bin" --db "$work/recv.db" events --json --limit 1 | awk -F': ' '/"id"/ {gsub(/,/, "", $2); print $2; exit}')
start_server --bench-hold-folds
measure held /webhooks/mykaarma
stop_server
held_fold=$(sed -n 's/.*\(folded [0-9]* held events in [0-9.]* s\).*/\1/p' "$work/serve.err")
noop=$(rps "$work/noop.txt"); durable=$(rps "$work/durable.txt"); held=$(rps "$work/held.txt")
cpu() { per_request "$work/$1.txt"; }
printf '%-34s %12s %10s   %s\n' "endpoint (${connections} connections, ${seconds}s)" "req/s" "p99" \
  "CPU µs a request: server, wrk, what $(nproc) cores give one"
printf '%-34s %12s %10s   %s\n' "POST /noop (do nothing, 200)" "$noop" "$(p99 "$work/noop.txt")" "$(cpu noop)"
printf '%-34s %12s %10s   %s\n' "POST /webhooks/mykaarma (durable)" "$durable" "$(p99 "$work/durable.txt")" "$(cpu durable)"
printf '%-34s %12s %10s   %s\n' "the same, every fold held (bound)" "$held" "$(p99 "$work/held.txt")" "$(cpu held)"
printf 'ratio durable/noop: %s   events stored: %s   non-2xx answers: %s\n' \
  "$(awk -v a="$durable" -v b="$noop" 'BEGIN {printf "%.2f", a / b}')" "${stored:-0}" "$(non2xx "$work/durable.txt")"
printf 'bound/noop: %s   at stop the receiver %s\n' \
  "$(awk -v a="$held" -v b="$noop" 'BEGIN {printf "%.2f", a / b}')" "${held_fold:-did not say what it folded}"
printf 'at 0.3x the do-nothing route, %s cores give each request %s µs\n' "$(nproc)" \
  "$(awk -v n="$noop" -v c="$(nproc)" 'BEGIN {printf "%.0f", c * 1e6 / (0.3 * n)}')"
