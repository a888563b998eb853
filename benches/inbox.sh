#!/usr/bin/env bash
# The inbox at scale: a database of ~1,000,000 messages / 50,000 conversations against one of 1,000
# messages, both driven headless through the real update/effects/draw loop at 80x24 into a crossterm
# backend that counts bytes. Prints one JSON report per database.
#   benches/inbox.sh [MESSAGES]     (default 1000000; the generated database is kept in benches/.data)
set -euo pipefail
cd "$(dirname "$0")/.."
big=${1:-1000000}
cargo build --release --quiet
bin=target/release/switchboard
data=benches/.data
mkdir -p "$data"

make_db() { # messages conversations name
  if [ ! -s "$data/$3.db" ]; then
    "$bin" gen --conversations "$2" --messages "$1" --out "$data/$3.ndjson"
    "$bin" --db "$data/$3.db" import "$data/$3.ndjson"
    rm -f "$data/$3.ndjson"
  fi
}
make_db 1000 100 small
make_db "$big" 50000 large

for name in small large; do
  echo "== $name"
  "$bin" --db "$data/$name.db" bench-inbox --width 80 --height 24
done
