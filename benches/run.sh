#!/usr/bin/env bash
# Switchboard against the engines' own ceilings: every row is a pair measured in the same run.
#   benches/run.sh           the full run (release build; about half an hour on 2 cores);
#                            prints the table and writes benches/RESULTS.md
#   benches/run.sh --smoke   the same steps at tiny sizes on the debug build, in seconds (CI runs it);
#                            writes its report to a temporary file, not RESULTS.md
# Installs sqlite3 and wrk (Debian packages) when missing; uses nginx for one more baseline when present.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/receiver_load.sh
mode=full
[ "${1:-}" = --smoke ] && mode=smoke

need() { # command package
  command -v "$1" >/dev/null && return
  echo "bench: installing $2 (Debian package)" >&2
  { apt-get update -qq && apt-get install -y -qq "$2"; } >/dev/null 2>&1 ||
    { echo "bench: '$1' is missing and could not be installed: apt-get install $2" >&2; exit 1; }
}
need sqlite3 sqlite3
need wrk wrk
need ssh openssh-client

if [ "$mode" = full ]; then
  cargo build --release --quiet
  bin=${CARGO_TARGET_DIR:-$PWD/target}/release/switchboard
  data=benches/.data
  import_conv=5000 import_msgs=164300 pairs=3
  big_conv=50000 big_msgs=1000000 small_conv=100 small_msgs=1000
  recv_seconds=10 repeat=400 signed=200000 presses=100 idle=60 ssh_sessions=32
  results=benches/RESULTS.md
else
  cargo build --quiet
  bin=${CARGO_TARGET_DIR:-$PWD/target}/debug/switchboard
  data=$(mktemp -d)
  import_conv=50 import_msgs=1000 pairs=1
  big_conv=500 big_msgs=5000 small_conv=20 small_msgs=200
  recv_seconds=1 repeat=10 signed=5000 presses=5 idle=2 ssh_sessions=3
  results=$data/RESULTS.md
fi
mkdir -p "$data"
work=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null
  rm -rf "$work"
  [ "$mode" = smoke ] && rm -rf "$data"
  return 0
}
trap cleanup EXIT

now_ns() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }
num() { awk -v a="$1" -v d="${2:-0}" 'BEGIN { printf "%.*f", d, a }'; } # a number with d decimals
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# Flatten pretty JSON to `path value` lines (`move_one_row.p99_ms 0.31`).
flat() { awk '
  /{$/ { if (match($0, /"[^"]+"/)) stack[++d] = substr($0, RSTART + 1, RLENGTH - 2); next }
  /^ *},?$/ { d--; next }
  /":/ { match($0, /"[^"]+"/); k = substr($0, RSTART + 1, RLENGTH - 2); v = $0; sub(/^[^:]*: */, "", v); sub(/,$/, "", v)
         p = ""; for (i = 1; i <= d; i++) p = p stack[i] "."; print p k, v }' "$1"; }
get() { awk -v k="$2" '$1 == k { print $2; exit }' "$1"; }
log() { printf '%s\n' "$*" >&2; }

commands=()
run_logged() { commands+=("$*"); "$@"; }
# The baseline: the sqlite3 CLI importing the lines of file $2 into the one-column table of database
# $1 (made if missing), WAL, synchronous=FULL, 4 KiB pages, one transaction.
sqlite_import() {
  sqlite3 "$1" >/dev/null <<EOF
PRAGMA page_size=4096;
PRAGMA journal_mode=WAL;
PRAGMA synchronous=FULL;
CREATE TABLE IF NOT EXISTS raw(line TEXT);
.mode ascii
.separator "\037" "\n"
.import $2 raw
EOF
}

# ---------------------------------------------------------------- 1. import
log "== import: $import_msgs messages over $import_conv conversations"
events_file=$data/import-$import_msgs.ndjson
[ -s "$events_file" ] || run_logged "$bin" gen --conversations "$import_conv" --messages "$import_msgs" --seed 1 --out "$events_file" >/dev/null
events=$(wc -l < "$events_file")
commands+=("$bin --db DB import $events_file" "sqlite3 DB: WAL, synchronous=FULL, page_size 4096, one-column table, .import (one transaction)")
: > "$work/import.sw"; : > "$work/import.sq"
for _ in $(seq "$pairs"); do
  rm -f "$work"/imp.db*
  t=$(now_ns); "$bin" --db "$work/imp.db" import "$events_file" >/dev/null; sw=$(secs "$t" "$(now_ns)")
  rm -f "$work"/sq.db*
  t=$(now_ns); sqlite_import "$work/sq.db" "$events_file"; sq=$(secs "$t" "$(now_ns)")
  echo "$sw" >> "$work/import.sw"; echo "$sq" >> "$work/import.sq"
  log "   switchboard ${sw}s, sqlite3 ${sq}s"
done
import_sw_s=$(median < "$work/import.sw"); import_sq_s=$(median < "$work/import.sq")
import_sw_rate=$(num "$(div "$events" "$import_sw_s")"); import_sq_rate=$(num "$(div "$events" "$import_sq_s")")
import_ratio=$(div "$import_sw_rate" "$import_sq_rate")

# ---------------------------------------------------------------- 2. the large database, rebuild
log "== large database: $big_msgs messages over $big_conv conversations"
large=$data/large-$big_msgs.db
# The baseline's own large database: the sqlite3 CLI's table holding the same events' lines.
large_sq=$data/large-$big_msgs-sqlite3.db
large_events_file() {
  [ -s "$work/large.ndjson" ] ||
    run_logged "$bin" gen --conversations "$big_conv" --messages "$big_msgs" --seed 7 --out "$work/large.ndjson" >/dev/null
}
if [ ! -s "$large" ]; then
  large_events_file
  t=$(now_ns); run_logged "$bin" --db "$large" import "$work/large.ndjson" >/dev/null; large_import_s=$(secs "$t" "$(now_ns)")
else
  large_import_s="(cached)"
fi
if [ ! -s "$large_sq" ]; then
  large_events_file
  rm -f "$large_sq"*; sqlite_import "$large_sq" "$work/large.ndjson"
fi
rm -f "$work/large.ndjson"
large_events=$(sqlite3 "$large" "SELECT count(*) FROM events")
t=$(now_ns); run_logged "$bin" --db "$large" rebuild >/dev/null; rebuild_s=$(secs "$t" "$(now_ns)")
rebuild_rate=$(num "$(div "$large_events" "$rebuild_s")")
rebuild_ratio=$(div "$rebuild_rate" "$import_sq_rate")
# As many messages again into a copy of the large database: messages it does not have yet (numbered
# after its own), spread over its conversations, so every index they go into is already large.
next_file=$data/import-next-$import_msgs-after-$big_msgs.ndjson
[ -s "$next_file" ] || run_logged "$bin" gen --conversations "$big_conv" --first-message "$big_msgs" --messages "$import_msgs" --seed 1 --out "$next_file" >/dev/null
# Its baseline does the same: the sqlite3 CLI imports the same file into a copy of its own large
# database. In pairs, each side timed from start to exit, each copy written out to disk first.
commands+=("$bin --db copy-of-large.db import $next_file --json" "sqlite3 copy-of-its-large.db: .import $next_file")
: > "$work/into.sw"; : > "$work/into.sq"
for _ in $(seq "$pairs"); do
  cp "$large" "$work/into-large.db"; sync
  t=$(now_ns); "$bin" --db "$work/into-large.db" import "$next_file" --json > "$work/into-large.json"; sw=$(secs "$t" "$(now_ns)")
  rm -f "$work"/into-large.db*
  cp "$large_sq" "$work/into-sq.db"; sync
  t=$(now_ns); sqlite_import "$work/into-sq.db" "$next_file"; sq=$(secs "$t" "$(now_ns)")
  rm -f "$work"/into-sq.db*
  echo "$sw" >> "$work/into.sw"; echo "$sq" >> "$work/into.sq"
  log "   into the large database: switchboard ${sw}s, sqlite3 ${sq}s"
done
field() { grep -o "\"$2\":[0-9.]*" "$1" | cut -d: -f2; } # a number from one-line JSON
into_imported=$(field "$work/into-large.json" imported)
into_events=$(wc -l < "$next_file")
into_rate=$(num "$(div "$into_events" "$(median < "$work/into.sw")")")
into_sq_rate=$(num "$(div "$into_events" "$(median < "$work/into.sq")")")
into_ratio=$(div "$into_rate" "$into_sq_rate")
# Against the import into a new database (section 1), as this row was measured before.
into_ratio_new=$(div "$into_rate" "$import_sq_rate")
small=$data/small-$small_msgs.db
if [ ! -s "$small" ]; then
  "$bin" gen --conversations "$small_conv" --messages "$small_msgs" --seed 7 --out "$work/small.ndjson" >/dev/null
  "$bin" --db "$small" import "$work/small.ndjson" >/dev/null
fi

# ---------------------------------------------------------------- 3. receiver
log "== receiver"
# The phases before wrote gigabytes: let the kernel finish writing them back now, not during the
# receiver's fsyncs.
sync
secret=bench-secret-$RANDOM
printf '[receiver.mykaarma]\nsignature_secret = "%s"\n' "$secret" > "$work/config.toml"
chmod 600 "$work/config.toml"
"$bin" gen --signed-mykaarma "$secret" --messages "$signed" --out "$work/signed.tsv"
wrk_run() { WRK_THREADS=2 wrk -t2 -c64 -d"${recv_seconds}s" --latency -s benches/post_signed.lua "$1" -- "$work/signed.tsv"; }
# wrk_measured URL OUT: the same wrk, and what it and the receiver spent meanwhile (benches/receiver_load.sh).
wrk_measured() {
  WRK_THREADS=2 wrk_costed "$server" "$2" -t2 -c64 -d"${recv_seconds}s" --latency -s benches/post_signed.lua "$1" \
    -- "$work/signed.tsv"
}
rps() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }
p99() { awk '$1 == "99%" { print $2 }' "$1"; }
start_server
commands+=("wrk -t2 -c64 -d${recv_seconds}s --latency -s benches/post_signed.lua URL/noop|URL/webhooks/mykaarma -- signed.tsv")
wrk_measured "$url/noop" "$work/noop.txt"
wrk_measured "$url/webhooks/mykaarma" "$work/durable.txt"
stop_server
noop_rps=$(num "$(rps "$work/noop.txt")"); durable_rps=$(num "$(rps "$work/durable.txt")")
recv_ratio=$(div "$durable_rps" "$noop_rps")
# The bound on that row: the same route with every fold held until the receiver stops (then it
# folds them all from the log, as a start after a crash would, and says how long that took).
start_server --bench-hold-folds
commands+=("$bin serve --bench-hold-folds, then the same wrk on URL/webhooks/mykaarma")
wrk_measured "$url/webhooks/mykaarma" "$work/held.txt"
stop_server
held_rps=$(num "$(rps "$work/held.txt")")
held=$(sed -n 's/.*folded \([0-9]*\) held events in \([0-9.]*\) s.*/\1 \2/p' "$work/serve.err")
[ -n "$held" ] || { log "bench: serve --bench-hold-folds stopped without saying it folded what it held:"; cat "$work/serve.err" >&2; exit 1; }
read -r held_events held_fold_s <<< "$held"
nginx_rps="not installed"
if command -v nginx >/dev/null; then
  mkdir -p "$work/nginx"
  cat > "$work/nginx/nginx.conf" <<EOF
worker_processes 1; pid $work/nginx/pid; error_log $work/nginx/error.log; daemon on;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path $work/nginx; client_max_body_size 16m;
  server { listen 127.0.0.1:18999; location / { return 200; } } }
EOF
  if nginx -c "$work/nginx/nginx.conf" 2>/dev/null; then
    wrk_run "http://127.0.0.1:18999/noop" > "$work/nginx.txt"; nginx_rps="$(num "$(rps "$work/nginx.txt")") req/s"
    kill "$(cat "$work/nginx/pid")" 2>/dev/null || true
  fi
fi
# A constant rate of 80 % of the durable maximum just measured, timing each acknowledgement and,
# as a reader woken like the inbox, each delivery until visible.
rate=$(awk -v r="$durable_rps" 'BEGIN { printf "%d", r * 0.8 }')
start_server
commands+=("$bin bench-load URL/webhooks/mykaarma signed.tsv --rate $rate --seconds $recv_seconds --connections 64 --watch-db recv.db")
"$bin" bench-load "$url/webhooks/mykaarma" "$work/signed.tsv" --rate "$rate" --seconds "$recv_seconds" --connections 64 \
  --watch-db "$work/recv.db" > "$work/rate.json"
stop_server
flat "$work/rate.json" > "$work/rate.flat"
rate_p99=$(num "$(get "$work/rate.flat" p99_ms)" 1); rate_p50=$(num "$(get "$work/rate.flat" p50_ms)" 1)
rate_achieved=$(num "$(get "$work/rate.flat" achieved_rate)"); rate_bad=$(( $(get "$work/rate.flat" non_2xx) + $(get "$work/rate.flat" errors) ))
visible_p99=$(num "$(get "$work/rate.flat" visible.p99_ms)" 1); visible_p50=$(num "$(get "$work/rate.flat" visible.p50_ms)" 1)
visible_unseen=$(get "$work/rate.flat" visible.unseen)
# The same at half that maximum, for where the acknowledgement's tail stands with the two cores
# less busy.
half=$(awk -v r="$durable_rps" 'BEGIN { printf "%d", r * 0.5 }')
start_server
"$bin" bench-load "$url/webhooks/mykaarma" "$work/signed.tsv" --rate "$half" --seconds "$recv_seconds" --connections 64 \
  > "$work/half.json"
stop_server
flat "$work/half.json" > "$work/half.flat"
half_p99=$(num "$(get "$work/half.flat" p99_ms)" 1); half_p50=$(num "$(get "$work/half.flat" p50_ms)" 1)
half_achieved=$(num "$(get "$work/half.flat" achieved_rate)"); half_bad=$(( $(get "$work/half.flat" non_2xx) + $(get "$work/half.flat" errors) ))

# ---------------------------------------------------------------- 4. inbox at scale
log "== inbox"
for name in small large; do
  db=$small; [ "$name" = large ] && db=$large
  # Two runs; the second is reported (the first warms the page cache, as an open inbox has).
  "$bin" --db "$db" bench-inbox --width 80 --height 24 --repeat "$repeat" > /dev/null
  "$bin" --db "$db" bench-inbox --width 80 --height 24 --repeat "$repeat" > "$work/inbox-$name.json"
  flat "$work/inbox-$name.json" > "$work/inbox-$name.flat"
done
commands+=("$bin --db DB bench-inbox --width 80 --height 24 --repeat $repeat   (twice per database; the second run is reported)")
S=$work/inbox-small.flat L=$work/inbox-large.flat
row_latency() { # label key
  local sm sp lm lp
  sm=$(get "$S" "$2.median_ms"); sp=$(get "$S" "$2.p99_ms"); lm=$(get "$L" "$2.median_ms"); lp=$(get "$L" "$2.p99_ms")
  printf '| %s | %.2f ms (p99 %.1f) | %.2f ms (p99 %.1f) | **%s×** | ≤ 1.5×, p99 < 16 ms |\n' "$1" "$lm" "$lp" "$sm" "$sp" "$(div "$lm" "$sm")"
}

# ---------------------------------------------------------------- 5. inbox in a real terminal
log "== inbox in a pseudo-terminal"
for name in small large; do
  db=$small; [ "$name" = large ] && db=$large
  idle_here=0; [ "$name" = large ] && idle_here=$idle
  "$bin" --db "$db" bench-terminal --width 80 --height 24 --presses "$presses" --idle-seconds "$idle_here" > "$work/pty-$name.json"
  flat "$work/pty-$name.json" > "$work/pty-$name.flat"
done
commands+=("$bin --db DB bench-terminal --width 80 --height 24 --presses $presses --idle-seconds $idle   (idle on the large database only)")
PS=$work/pty-small.flat PL=$work/pty-large.flat
row_terminal() { # label key
  local sm sp lm lp
  sm=$(get "$PS" "keys.$2.median_ms"); sp=$(get "$PS" "keys.$2.p99_ms"); lm=$(get "$PL" "keys.$2.median_ms"); lp=$(get "$PL" "keys.$2.p99_ms")
  printf '| %s | %.2f ms (p99 %.1f) | %.2f ms (p99 %.1f) | %s× | ≤ 5 ms median, ≤ 16 ms p99 |\n' "$1" "$lm" "$lp" "$sm" "$sp" "$(div "$lm" "$sm")"
}

# ---------------------------------------------------------------- 6. the inbox over SSH
log "== inbox over SSH: switchboard ssh and demo --ssh on loopback, the OpenSSH client in a pseudo-terminal"
for name in small large; do
  db=$small; [ "$name" = large ] && db=$large
  idle_here=2; [ "$name" = large ] && idle_here=$idle
  "$bin" --db "$db" bench-terminal --width 80 --height 24 --presses "$presses" --idle-seconds "$idle_here" \
    --ssh team --ssh-sessions "$ssh_sessions" > "$work/ssh-$name.json"
  flat "$work/ssh-$name.json" > "$work/ssh-$name.flat"
done
"$bin" bench-terminal --width 80 --height 24 --presses "$presses" --idle-seconds 10 \
  --ssh demo --ssh-sessions "$ssh_sessions" > "$work/ssh-demo.json"
flat "$work/ssh-demo.json" > "$work/ssh-demo.flat"
commands+=("$bin --db DB bench-terminal --width 80 --height 24 --presses $presses --idle-seconds $idle --ssh team --ssh-sessions $ssh_sessions"
  "$bin bench-terminal --width 80 --height 24 --presses $presses --idle-seconds 10 --ssh demo --ssh-sessions $ssh_sessions")
SL=$work/ssh-large.flat SS=$work/ssh-small.flat SD=$work/ssh-demo.flat
row_ssh() { # label key: over SSH beside the local pseudo-terminal, large database
  local sm sp lm lp
  sm=$(get "$SL" "keys.$2.median_ms"); sp=$(get "$SL" "keys.$2.p99_ms"); lm=$(get "$PL" "keys.$2.median_ms"); lp=$(get "$PL" "keys.$2.p99_ms")
  printf '| %s | %.2f ms (p99 %.1f) | local terminal %.2f ms (p99 %.1f) | +%.2f ms | ≤ 5 ms median, ≤ 16 ms p99 |\n' "$1" "$sm" "$sp" "$lm" "$lp" "$(awk -v a="$sm" -v b="$lm" 'BEGIN { print a - b }')"
}
kib_mib() { num "$(div "$1" 1024)" 1; }

# ---------------------------------------------------------------- report
costs() { per_request "$work/$1.txt" | awk '{ printf "%d + %d of %d", $1, $2, $3 }'; }
need_us=$(awk -v n="$noop_rps" -v c="$(nproc)" 'BEGIN { printf "%.0f", c * 1e6 / (0.3 * n) }')
machine="$(uname -srm); $(nproc) cores; $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); $(awk '/MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo); $(df -T "$data" | awk 'NR == 2 { print $2 }') filesystem"
table=$(cat <<EOF
| | Switchboard | baseline (same run) | ratio | goal |
|---|---|---|---|---|
| Import, $events events | $import_sw_rate events/s | sqlite3 one-column insert: $import_sq_rate rows/s | **${import_ratio}×** | ≥ 0.5× |
| Import of as many messages again, new ones, into a database holding $large_events events ($into_imported new) | $into_rate events/s | sqlite3 importing the same lines into its table holding the large database's: $into_sq_rate rows/s | **${into_ratio}×** (${into_ratio_new}× against the import into a new database) | ≥ 0.35× |
| Rebuild, $large_events events | $rebuild_rate events/s | the sqlite3 import into a new database | **${rebuild_ratio}×** | |
| Receiver, durable signed 4 KiB deliveries, 64 connections | $durable_rps req/s | do-nothing route, same server: $noop_rps req/s (nginx \`return 200\`: $nginx_rps) | **${recv_ratio}×** | ≥ 0.3× |
| Its bound: the append path alone, every fold held until the receiver stops | $held_rps req/s | the do-nothing route | $(div "$held_rps" "$noop_rps")× | |
| The held events folded at stop, from the log | $(num "$(div "$held_events" "$held_fold_s")") events/s ($held_events in ${held_fold_s} s) | | | |
| CPU a request, µs (receiver + wrk, of what the $(nproc) cores give each at the rate reached) | durable: $(costs durable); bound: $(costs held) | do-nothing route: $(costs noop) | at 0.3× the do-nothing route the cores give each request $need_us µs | |
| Receiver at $rate req/s (constant, 80 % of the durable maximum) | acknowledged: p99 $rate_p99 ms, p50 $rate_p50 ms ($rate_achieved req/s sent, $rate_bad not 2xx) | | | p99 < 20 ms |
| Acknowledged → visible to a reader woken as the inbox is, at that rate | p99 $visible_p99 ms, p50 $visible_p50 ms ($visible_unseen never seen) | | | p99 < 100 ms |
| Receiver at $half req/s (constant, 50 % of the durable maximum) | acknowledged: p99 $half_p99 ms, p50 $half_p50 ms ($half_achieved req/s sent, $half_bad not 2xx) | | | |
| Headless: first frame, $(get "$L" messages) vs $(get "$S" messages) messages | $(num "$(get "$L" first_frame_ms)" 1) ms | $(num "$(get "$S" first_frame_ms)" 1) ms | **$(div "$(get "$L" first_frame_ms)" "$(get "$S" first_frame_ms)")×** | < 100 ms |
$(row_latency "Headless: move one row" move_one_row)
$(row_latency "Headless: page down" page_down)
$(row_latency "Headless: open a thread" open_thread)
$(row_latency "Headless: page up a thread" thread_page_up)
$(row_latency "Headless: search a common word" search)
$(row_latency "Headless: switch to the failed filter" filter_failed)
| Bytes for a one-row move | $(get "$L" move_one_row_bytes) B | full frame $(get "$L" full_frame_bytes) B | **$(div "$(( $(get "$L" move_one_row_bytes) * 100 ))" "$(get "$L" full_frame_bytes)") %** | ≤ 10 % |
| Bytes to open a thread | $(get "$L" open_thread_bytes) B | full frame $(get "$L" full_frame_bytes) B | $(div "$(( $(get "$L" open_thread_bytes) * 100 ))" "$(get "$L" full_frame_bytes)") % | |
| Terminal: first frame (exec to list drawn, warm cache) | $(num "$(get "$PL" first_frame.median_ms)" 1) ms (p99 $(num "$(get "$PL" first_frame.p99_ms)" 1)) | $(num "$(get "$PS" first_frame.median_ms)" 1) ms | $(div "$(get "$PL" first_frame.median_ms)" "$(get "$PS" first_frame.median_ms)")× | ≤ 50 ms |
$(row_terminal "Terminal: move one row" move)
$(row_terminal "Terminal: page down / up" page)
$(row_terminal "Terminal: open a thread" open_thread)
$(row_terminal "Terminal: back to the list" back)
$(row_terminal "Terminal: next filter" next_filter)
$(row_terminal "Terminal: search a common word" search)
$(row_terminal "Terminal: page up a thread" thread_page_up)
$(row_terminal "Terminal: open the reply pane" open_reply)
| Terminal: idle $(get "$PL" idle.seconds) s | $(get "$PL" idle.bytes) B written, $(num "$(get "$PL" idle.cpu_ms)" 1) ms CPU | | | only the clock's bytes, ≤ 10 ms CPU |
| Terminal: presses unanswered | $(get "$PL" unanswered) | $(get "$PS" unanswered) | | 0 |
| SSH: first frame (ssh started to list drawn; key exchange included) | $(num "$(get "$SL" first_frame.median_ms)" 1) ms (p99 $(num "$(get "$SL" first_frame.p99_ms)" 1)) | local terminal $(num "$(get "$PL" first_frame.median_ms)" 1) ms | | |
$(row_ssh "SSH: move one row" move)
$(row_ssh "SSH: page down / up" page)
$(row_ssh "SSH: open a thread" open_thread)
$(row_ssh "SSH: back to the list (ESC: waits 10 ms for a sequence)" back)
$(row_ssh "SSH: search a common word" search)
$(row_ssh "SSH: open the reply pane" open_reply)
| SSH: presses unanswered | $(get "$SL" unanswered) | $(get "$SS" unanswered) at $(get "$SS" messages) messages | | 0 |
| SSH: server memory, $(get "$SL" ssh.sessions) team sessions on the large database | $(kib_mib "$(get "$SL" ssh.rss_all_kib)") MiB ($(kib_mib "$(get "$SL" ssh.rss_per_session_kib)") MiB a session) | one session: $(kib_mib "$(get "$SL" ssh.rss_one_kib)") MiB | | |
| SSH: $(get "$SL" ssh.sessions) team sessions idle $(get "$SL" ssh.idle_seconds) s | server CPU $(num "$(get "$SL" ssh.idle_cpu_ms)" 1) ms; $(num "$(get "$SL" ssh.idle_bytes_per_session_per_s)" 1) B/s a session | one session: $(num "$(get "$SL" idle.cpu_ms)" 1) ms CPU, $(get "$SL" idle.bytes) B | | ≤ 10 ms CPU a session a minute |
| SSH demo: $(get "$SD" ssh.sessions) visitors, each their own dealership | $(kib_mib "$(get "$SD" ssh.rss_all_kib)") MiB ($(kib_mib "$(get "$SD" ssh.rss_per_session_kib)") MiB a visitor) | one visitor: $(kib_mib "$(get "$SD" ssh.rss_one_kib)") MiB | | |
| SSH demo: $(get "$SD" ssh.sessions) visitors for $(get "$SD" ssh.idle_seconds) s while their feeds run | server CPU $(num "$(get "$SD" ssh.idle_cpu_ms)" 1) ms; $(num "$(get "$SD" ssh.idle_bytes_per_session_per_s)" 1) B/s a visitor | keys: move $(num "$(get "$SD" keys.move.median_ms)" 2) ms, open $(num "$(get "$SD" keys.open_thread.median_ms)" 2) ms (median) | | |
| Inbox peak RSS | $(num "$(div "$(get "$L" peak_rss_kib)" 1024)" 1) MiB | $(num "$(div "$(get "$S" peak_rss_kib)" 1024)" 1) MiB at $(get "$S" messages) messages | | < 60 MB |
EOF
)
{
  echo "# Benchmark results"
  echo
  echo "Written by \`benches/run.sh\` ($mode run) on $(date -u +%Y-%m-%dT%H:%MZ) at commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')."
  echo
  echo "Machine: $machine."
  echo
  echo "$table"
  echo
  echo "## Raw figures"
  echo
  echo "- import ($pairs pairs, seconds): switchboard $(paste -sd' ' "$work/import.sw"); sqlite3 $(paste -sd' ' "$work/import.sq"); $events events, $(du -m "$events_file" | cut -f1) MB of NDJSON"
  echo "- large database: $large_events events, import ${large_import_s}s, rebuild ${rebuild_s}s"
  echo "- import into the large database ($pairs pairs, seconds from start to exit): switchboard $(paste -sd' ' "$work/into.sw"); sqlite3 $(paste -sd' ' "$work/into.sq"); $into_events events, $(du -m "$next_file" | cut -f1) MB of NDJSON; the last: $(tr -d '\n ' < "$work/into-large.json")"
  echo "- receiver, wrk: noop $noop_rps req/s p99 $(p99 "$work/noop.txt"); durable $durable_rps req/s p99 $(p99 "$work/durable.txt"); folds held $held_rps req/s p99 $(p99 "$work/held.txt")"
  echo "- receiver, CPU µs a request (receiver, wrk, what the cores give): noop $(per_request "$work/noop.txt"); durable $(per_request "$work/durable.txt"); folds held $(per_request "$work/held.txt")"
  echo "- receiver, constant rate: $(tr -d '\n ' < "$work/rate.json")"
  echo "- receiver, half that rate: $(tr -d '\n ' < "$work/half.json")"
  echo "- inbox, $(get "$S" messages) messages: $(tr -d '\n ' < "$work/inbox-small.json")"
  echo "- inbox, $(get "$L" messages) messages: $(tr -d '\n ' < "$work/inbox-large.json")"
  echo "- terminal, $(get "$PS" messages) messages: $(tr -d '\n ' < "$work/pty-small.json")"
  echo "- terminal, $(get "$PL" messages) messages: $(tr -d '\n ' < "$work/pty-large.json")"
  echo "- over SSH, $(get "$SS" messages) messages: $(tr -d '\n ' < "$work/ssh-small.json")"
  echo "- over SSH, $(get "$SL" messages) messages: $(tr -d '\n ' < "$work/ssh-large.json")"
  echo "- demo over SSH: $(tr -d '\n ' < "$work/ssh-demo.json")"
  echo
  echo "## Commands"
  echo
  for c in "${commands[@]}"; do echo "- \`${c//$PWD\//}\`"; done
} > "$results"
echo "$table"
echo
echo "report: $results"
