#!/usr/bin/env bash
# The inbox as a person meets it: the release binary in a pseudo-terminal at 80x24. Each key's
# latency is the time from writing its bytes until the output has settled (the last byte of the
# answer); the first frame is exec until the list is drawn. Then a minute with nothing happening:
# bytes written and CPU used. Prints one JSON report per database. benches/run.sh runs the same.
#   benches/terminal.sh [MESSAGES]   (default 1000000; the generated databases are kept in benches/.data)
set -euo pipefail
cd "$(dirname "$0")/.."
big=${1:-1000000}
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/switchboard
data=benches/.data
mkdir -p "$data"

make_db() { # messages conversations file
  if [ ! -s "$3" ]; then
    "$bin" gen --conversations "$2" --messages "$1" --seed 7 --out "$3.ndjson" >/dev/null
    "$bin" --db "$3" import "$3.ndjson" >/dev/null
    rm -f "$3.ndjson"
  fi
}
make_db 1000 100 "$data/small-1000.db"
make_db "$big" 50000 "$data/large-$big.db"

echo "== 1,000 messages"
"$bin" --db "$data/small-1000.db" bench-terminal --width 80 --height 24 --presses 100
echo "== $big messages"
"$bin" --db "$data/large-$big.db" bench-terminal --width 80 --height 24 --presses 100 --idle-seconds 60
