#!/usr/bin/env bash
# Times whole jjsql runs and prints, per query: wall seconds, MB/s, packets/s
# and peak RSS, next to a baseline that only reads the file (cat > /dev/null).
# usage: scripts/bench.sh [JJSQL] [CAPTURE]
# Without CAPTURE it builds the 210 MB real-traffic capture from ../shared
# (tools/make_bench_pcap.sh) into testdata/bench/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
JJ=${1:-bin/jjsql}
CAP=${2:-}
if [ -z "$CAP" ]; then
  CAP=testdata/bench/corpus-replay.pcap
  if [ ! -f "$CAP" ]; then
    if [ ! -x ../shared/tools/make_bench_pcap.sh ] && [ ! -f ../shared/tools/make_bench_pcap.sh ]; then
      echo "bench: no capture given and ../shared/tools/make_bench_pcap.sh not found" >&2
      exit 2
    fi
    mkdir -p testdata/bench
    sh ../shared/tools/make_bench_pcap.sh ../shared/corpus "$CAP" 200 >&2
  fi
fi
size=$(stat -c %s "$CAP")
mb=$(awk -v s="$size" 'BEGIN{printf "%.1f", s/1048576}')
pkts=$("$JJ" --format csv "SELECT count(*) FROM packets('$CAP')" | tail -n 1)
echo "capture: $CAP  ${mb} MiB  ${pkts} IP packets"

# measure LABEL CMD...: wall seconds and peak RSS (KiB) via /usr/bin/time if present, else bash time.
measure() {
  local label=$1; shift
  local t0 t1 rss=""
  if [ -x /usr/bin/time ]; then
    t0=$(date +%s.%N)
    rss=$(/usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -n 1)
    t1=$(date +%s.%N)
  else
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    rss="?"
  fi
  awk -v l="$label" -v a="$t0" -v b="$t1" -v s="$size" -v p="$pkts" -v r="$rss" 'BEGIN{
    w=b-a; if (w<=0) w=1e-9;
    printf "%-34s %7.2f s %8.1f MB/s %10.0f pkt/s  peak RSS %s KiB\n", l, w, s/1048576/w, p/w, r }'
}

cat "$CAP" > /dev/null # warm the page cache
measure "cat (read limit)" cat "$CAP"
measure "count(*) packets" "$JJ" --format csv "SELECT count(*) FROM packets('$CAP')"
measure "count(*) flows" "$JJ" --format csv "SELECT count(*) FROM flows('$CAP')"
measure "flow_meta columns" "$JJ" --format csv "SELECT src_ip, dst_ip, src_port, dst_port, protocol, total_packets, total_bytes, duration FROM flows('$CAP')"
measure "SELECT ja3, count(*) GROUP BY 1" "$JJ" --format csv "SELECT ja3, count(*) FROM flows('$CAP') GROUP BY 1"
measure "timing+size+tcp columns" "$JJ" --format csv "SELECT iat_mean, pkt_len_mean, tcp_syn_count FROM flows('$CAP')"
measure "SELECT * flows" "$JJ" --format csv "SELECT * FROM flows('$CAP')"
if command -v tshark >/dev/null 2>&1; then
  measure "tshark -z conv,tcp (peer)" tshark -r "$CAP" -q -z conv,tcp
fi
