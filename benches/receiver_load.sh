# The receiver under load, for the receiver rows of run.sh and for receiver.sh (both source this):
# starting and stopping it, and what a load costs the machine a request at a time (the server's CPU,
# all its threads, and wrk's) against what the machine's cores give each request at the rate reached.

# start_server [serve's options]: $bin's receiver on $work/recv.db with $work/config.toml, on a
# free loopback port; sets $server (its pid) and $url. Uses $bin and $work.
start_server() {
  rm -f "$work"/recv.db*
  "$bin" --db "$work/recv.db" --config "$work/config.toml" serve --listen 127.0.0.1:0 --bench-noop "$@" \
    > "$work/serve.out" 2> "$work/serve.err" &
  server=$!
  for _ in $(seq 100); do grep -q listening "$work/serve.out" && break; sleep 0.05; done
  url=$(sed -n 's/^listening on //p' "$work/serve.out")
}
stop_server() { kill "$server"; wait "$server" 2>/dev/null || true; server=""; }

# cpu_of PID: CPU seconds (user + system) the running process has used so far.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz }' "/proc/$1/stat"; }

# wrk_costed SERVER_PID OUT WRK_ARGS...: run wrk with its output in OUT, and write the CPU
# seconds the server and wrk used from wrk's "Running" line (its scripts loaded) to its end into
# OUT.server and OUT.client.
wrk_costed() {
  local server=$1 out=$2
  shift 2
  (
    stdbuf -oL wrk "$@" > "$out" &
    local wrk=$! server_start wrk_start
    until grep -qs '^Running' "$out" || ! kill -0 "$wrk" 2>/dev/null; do sleep 0.01; done
    server_start=$(cpu_of "$server")
    wrk_start=$(cpu_of "$wrk" 2>/dev/null || echo 0)
    wait "$wrk"
    awk -v a="$server_start" -v b="$(cpu_of "$server")" 'BEGIN { print b - a }' > "$out.server"
    # `times` itself, not in a pipe: a pipe's side is a new process, which has no children yet.
    times > "$out.times"
    awk -v start="$wrk_start" 'NR == 2 {
      split($1, u, /[ms]/); split($2, s, /[ms]/); print u[1] * 60 + u[2] + s[1] * 60 + s[2] - start }' \
      "$out.times" > "$out.client"
    rm -f "$out.times"
  )
}

# per_request OUT: "SERVER WRK HELD", µs of CPU a request, where HELD is what the cores give each
# request at the rate wrk reached (all of them busy).
per_request() {
  awk -v server="$(cat "$1.server")" -v client="$(cat "$1.client")" -v cores="$(nproc)" '
    / requests in / { n = $1; t = $4; sub(/s,?$/, "", t) }
    END { if (n > 0) printf "%.0f %.0f %.0f\n", server * 1e6 / n, client * 1e6 / n, cores * t * 1e6 / n }' "$1"
}
