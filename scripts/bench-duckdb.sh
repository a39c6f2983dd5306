#!/usr/bin/env bash
# Times exports of SELECT * FROM flows(CAPTURE): Parquet through DuckDB's
# table function (the -o route), Parquet through SQLite (a WHERE makes the
# query not plain), CSV from SQLite, CSV from the DuckDB engine. Each is run
# RUNS times; it prints the best and the median wall time, the CPU time of
# the best run, packets/s (of the best run) and peak RSS.
# usage: scripts/bench-duckdb.sh [JJSQL] [CAPTURE] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
JJ=${1:-bin/jjsql}
CAP=${2:-testdata/bench/corpus-replay.pcap}
[ -n "$CAP" ] || CAP=testdata/bench/corpus-replay.pcap
RUNS=${3:-3}
if [ ! -f "$CAP" ]; then
  echo "bench-duckdb: $CAP not found (make bench builds it)" >&2
  exit 2
fi
if [ ! -x /usr/bin/time ]; then
  echo "bench-duckdb: needs /usr/bin/time (Debian package time)" >&2
  exit 2
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
size=$(stat -c %s "$CAP")
pkts=$("$JJ" --format csv "SELECT count(*) FROM packets('$CAP')" | tail -n 1)
flows=$("$JJ" --format csv "SELECT count(*) FROM flows('$CAP')" | tail -n 1)
cols=$("$JJ" --format csv "SELECT * FROM flows('$CAP') LIMIT 0" | head -n 1 | tr ',' '\n' | wc -l)
printf 'capture: %s  %.1f MiB  %s IP packets  %s flows x %s columns\n' "$CAP" "$(awk -v s="$size" 'BEGIN{print s/1048576}')" "$pkts" "$flows" "$cols"
printf '%-34s %8s %8s %8s %12s %9s %10s\n' "export" "best s" "median s" "cpu s" "packets/s" "RSS MiB" "file MiB"

run() {
  local label=$1 file=$2; shift 2
  local walls=() best="" bestcpu="" rss="" t
  for _ in $(seq "$RUNS"); do
    rm -f "$file"
    t=$(/usr/bin/time -f '%e %U %S %M' "$@" 2>&1 >/dev/null | tail -n 1)
    read -r wall user sys kb <<<"$t"
    walls+=("$wall")
    if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN{exit !(a<b)}'; then
      best=$wall; bestcpu=$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}'); rss=$kb
    fi
  done
  median=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  fsize=$(stat -c %s "$file" 2>/dev/null || echo 0)
  printf '%-34s %8.2f %8.2f %8.2f %12.0f %9.0f %10.1f\n' "$label" "$best" "$median" "$bestcpu" \
    "$(awk -v p="$pkts" -v w="$best" 'BEGIN{print p/w}')" "$(awk -v k="$rss" 'BEGIN{print k/1024}')" \
    "$(awk -v s="$fsize" 'BEGIN{print s/1048576}')"
}

Q="SELECT * FROM flows('$CAP')"
run "parquet, DuckDB table function" "$out/a.parquet" "$JJ" -o "$out/a.parquet" "$Q"
run "parquet, SQLite rows to DuckDB" "$out/b.parquet" "$JJ" -o "$out/b.parquet" "$Q WHERE 1"
run "duckdb table, DuckDB table function" "$out/c.duckdb" "$JJ" -o "$out/c.duckdb" "$Q"
run "duckdb table, SQLite + Appender" "$out/d.duckdb" "$JJ" -o "$out/d.duckdb" "$Q WHERE 1"
run "csv, SQLite" "$out/e.csv" "$JJ" -o "$out/e.csv" "$Q"
run "csv, DuckDB engine" "$out/f.csv" "$JJ" --engine duckdb -o "$out/f.csv" "$Q"
