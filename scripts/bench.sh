#!/usr/bin/env bash
# Times whole jjsql runs on the benchmark captures (issue 6) and prints, per
# query and core count: wall seconds, MB/s, packets/s, the ratio to the
# `cat FILE > /dev/null` baseline of the same run, peak RSS and peak RssAnon
# (tools/peakmem samples /proc/PID/status every 10 ms), the two-core
# speed-up, and how far SELECT * and count(*) FROM packets are from the
# SQLite ceiling (the same rows and columns moved out of a plain table).
#
# usage: scripts/bench.sh [--jjsql BIN] [--runs N] [--write-doc] [--no-peer] [--quick] [CAPTURE...]
#
#   --jjsql BIN   the jjsql binary (default bin/jjsql; a first argument that
#                 is an executable and not a capture is taken as BIN too)
#   --runs N      runs per measurement, the fastest kept (default 3; a query
#                 slower than 10 s runs once)
#   --write-doc   write the tables, the machine and the pprof top of the
#                 query furthest from its target into docs/PERFORMANCE.md
#                 (between the bench:begin and bench:end markers)
#   --no-peer     skip tshark
#   --quick       one run each, no tshark
#
# Without CAPTURE it uses testdata/bench/synthetic.pcap (written by
# go run ./tools/genbench when missing: 1 GB, 2.5M packets, 60k flows) and
# testdata/bench/corpus-replay.pcap (built from ../shared/corpus by
# ../shared/tools/make_bench_pcap.sh: 210 MB of real traffic). Both live in
# testdata/bench/, which git ignores, as do the ceiling databases built
# there.
set -euo pipefail
cd "$(dirname "$0")/.."

JJ=bin/jjsql
RUNS=3
WRITE_DOC=0
PEER=1
CAPS=()
while [ $# -gt 0 ]; do
  case $1 in
    --jjsql) JJ=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --write-doc) WRITE_DOC=1; shift ;;
    --no-peer) PEER=0; shift ;;
    --quick) RUNS=1; PEER=0; shift ;;
    -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "bench: unknown option $1" >&2; exit 2 ;;
    *)
      if [ ${#CAPS[@]} -eq 0 ] && [ -x "$1" ] && [ ! -d "$1" ] && [[ $1 != *.pcap* ]]; then
        JJ=$1
      else
        CAPS+=("$1")
      fi
      shift ;;
  esac
done

BENCH=testdata/bench
mkdir -p "$BENCH/.bin"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

if [ ! -x "$JJ" ]; then
  echo "bench: $JJ not found (make build)" >&2
  exit 2
fi
PEAKMEM=$BENCH/.bin/peakmem
go build -o "$PEAKMEM" ./tools/peakmem

if [ ${#CAPS[@]} -eq 0 ]; then
  if [ ! -f "$BENCH/synthetic.pcap" ]; then
    echo "bench: writing $BENCH/synthetic.pcap (go run ./tools/genbench)" >&2
    go run ./tools/genbench -o "$BENCH/synthetic.pcap" >&2
  fi
  CAPS+=("$BENCH/synthetic.pcap")
  if [ ! -f "$BENCH/corpus-replay.pcap" ]; then
    if [ -f ../shared/tools/make_bench_pcap.sh ] && [ -d ../shared/corpus ]; then
      sh ../shared/tools/make_bench_pcap.sh ../shared/corpus "$BENCH/corpus-replay.pcap" 200 >&2
    else
      echo "bench: ../shared/tools/make_bench_pcap.sh or ../shared/corpus not found: no real-traffic capture" >&2
    fi
  fi
  if [ -f "$BENCH/corpus-replay.pcap" ]; then
    CAPS+=("$BENCH/corpus-replay.pcap")
  fi
fi

PARQUET=0
if "$JJ" --help 2>&1 | grep -qi parquet; then
  PARQUET=1
fi
HAVE_TSHARK=0
if [ "$PEER" = 1 ] && command -v tshark >/dev/null 2>&1; then
  HAVE_TSHARK=1
fi

jq1() { "$JJ" --format csv "$@" | tail -n 1; }

# One column of every feature group (a non-optional one where the group has
# one), summed so that nothing but one number is printed.
EVERY=$(jq1 "SELECT group_concat(CASE WHEN dtype = 'string' THEN 'total(length(' || name || '))' ELSE 'total(' || name || ')' END, ' + ')
  FROM features f WHERE name = (SELECT coalesce(min(CASE WHEN coalesce(option, '') = '' THEN name END), min(name)) FROM features g WHERE g.grp = f.grp)" | tr -d '"')
NGROUPS=$(jq1 "SELECT count(DISTINCT grp) FROM features")
META=$(jq1 "SELECT group_concat(name, ', ') FROM features WHERE grp = 'flow_meta' AND coalesce(option, '') = ''" | tr -d '"')
NCOLS=$("$JJ" --format csv "SELECT * FROM flows('testdata/sample.pcap') LIMIT 1" | head -n 1 | awk -F, '{print NF}')

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
RES=$TMP/results.tsv # capture, label, cores, wall, maxrss KiB, anon KiB, runs
: > "$RES"

# measure CAP LABEL CORES CMD...: runs CMD (stdout to /dev/null) under
# peakmem, RUNS times unless it takes over 10 s; keeps the fastest wall
# time and the largest memory figures.
measure() {
  local cap=$1 label=$2 cores=$3; shift 3
  local n=0 best="" rss=0 anon=0 rep=$TMP/peak.txt
  local envp=()
  if [ "$cores" = 1 ]; then envp=(env GOMAXPROCS=1); fi
  while [ $n -lt "$RUNS" ]; do
    : > "$rep"
    if ! "${envp[@]}" "$PEAKMEM" -o "$rep" -- "$@" > /dev/null 2> "$TMP/err.txt"; then
      echo "bench: $label failed: $(tail -n 3 "$TMP/err.txt")" >&2
      return 0
    fi
    local line w r a
    line=$(tail -n 1 "$rep")
    w=$(sed 's/.*wall_s=\([0-9.]*\).*/\1/' <<<"$line")
    r=$(sed 's/.*maxrss_kib=\([0-9]*\).*/\1/' <<<"$line")
    a=$(sed 's/.*peak_anon_kib=\([0-9]*\).*/\1/' <<<"$line")
    n=$((n + 1))
    if [ -z "$best" ] || awk -v a="$w" -v b="$best" 'BEGIN{exit !(a < b)}'; then best=$w; fi
    [ "$r" -gt "$rss" ] && rss=$r
    [ "$a" -gt "$anon" ] && anon=$a
    if awk -v a="$w" 'BEGIN{exit !(a > 10)}'; then break; fi
  done
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cap" "$label" "$cores" "$best" "$rss" "$anon" "$n" >> "$RES"
  printf '  %-22s %-5s %8.3f s  peak RSS %6d MiB  RssAnon %6d MiB  (%d run%s)\n' "$label" "$cores" "$best" $((rss / 1024)) $((anon / 1024)) "$n" "$([ "$n" = 1 ] || echo s)" >&2
}

CAPINFO=$TMP/captures.tsv # capture, bytes, packets, flows, note
: > "$CAPINFO"
for CAP in "${CAPS[@]}"; do
  size=$(stat -L -c %s "$CAP")
  cat "$CAP" > /dev/null # warm the page cache
  pkts=$(jq1 "SELECT count(*) FROM packets('$CAP')")
  nflows=$(jq1 "SELECT count(*) FROM flows('$CAP')")
  note=""
  if [ -f "$CAP.manifest" ]; then
    want_p=$(sed -n 's/^packets=//p' "$CAP.manifest")
    want_f=$(sed -n 's/^flows=//p' "$CAP.manifest")
    if [ "$want_p" != "$pkts" ] || [ "$want_f" != "$nflows" ]; then
      echo "bench: WARNING: $CAP: jjsql reads $pkts packets and $nflows flows, the generator wrote $want_p and $want_f" >&2
      note="MISMATCH with the manifest ($want_p packets, $want_f flows)"
    else
      note="generator manifest: $(sed -n 's/^peak_open=//p' "$CAP.manifest") flows open at most, $(sed -n 's/^ipv6_flows=//p' "$CAP.manifest") IPv6 and $(sed -n 's/^vlan_flows=//p' "$CAP.manifest") VLAN flows"
    fi
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$CAP" "$size" "$pkts" "$nflows" "$note" >> "$CAPINFO"
  echo "capture: $CAP  $(awk -v s="$size" 'BEGIN{printf "%.1f MB", s/1e6}')  $pkts IP packets  $nflows flows" >&2

  # SQLite ceiling of SELECT *, built once per capture and binary
  # (untimed): the rows and columns of SELECT * FROM flows in a plain table.
  ceil=$BENCH/ceiling-$(basename "$CAP").db
  if [ ! -f "$ceil" ] || [ "$CAP" -nt "$ceil" ] || [ "$JJ" -nt "$ceil" ]; then
    rm -f "$ceil"
    "$JJ" --db "$ceil" "CREATE TABLE flows_copy AS SELECT * FROM flows('$CAP')" > /dev/null
  fi
  cat "$ceil" > /dev/null
  # The ceiling of count(*) FROM packets: SQLite producing as many rows in
  # one statement (a recursive CTE; about as fast as a Go virtual table of
  # mattn/go-sqlite3 that returns empty rows, see docs/PERFORMANCE.md).
  CEILP="WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $pkts) SELECT count(*) FROM c"

  for cores in 1 2; do
    echo " cores: $cores" >&2
    measure "$CAP" "cat (read limit)" "$cores" cat "$CAP"
    measure "$CAP" "count_packets" "$cores" "$JJ" --format csv "SELECT count(*) FROM packets('$CAP')"
    measure "$CAP" "ceiling_packets" "$cores" "$JJ" --format csv "$CEILP"
    measure "$CAP" "count_flows" "$cores" "$JJ" --format csv "SELECT count(*) FROM flows('$CAP')"
    measure "$CAP" "flow_meta" "$cores" "$JJ" --format csv "SELECT $META FROM flows('$CAP')"
    measure "$CAP" "ja3_sni" "$cores" "$JJ" --format csv "SELECT ja3, tls_sni, count(*) FROM flows('$CAP') GROUP BY 1, 2"
    measure "$CAP" "every_group" "$cores" "$JJ" --format csv "SELECT $EVERY FROM flows('$CAP')"
    measure "$CAP" "select_star" "$cores" "$JJ" --format csv "SELECT * FROM flows('$CAP')"
    measure "$CAP" "ceiling_flows" "$cores" "$JJ" --db "$ceil" --format csv "SELECT * FROM flows_copy"
    if [ "$PARQUET" = 1 ]; then
      measure "$CAP" "parquet" "$cores" "$JJ" -o "$TMP/features.parquet" "SELECT * FROM flows('$CAP')"
      rm -f "$TMP/features.parquet"
    fi
  done
  if [ "$HAVE_TSHARK" = 1 ]; then
    echo " peer:" >&2
    RUNS_SAVED=$RUNS; RUNS=1
    measure "$CAP" "tshark conv,tcp" "-" tshark -r "$CAP" -q -z conv,tcp
    RUNS=$RUNS_SAVED
  fi
done

# report FORMAT: the results table (text or markdown).
report() {
  awk -F'\t' -v fmt="$1" -v ncols="$NCOLS" '
    FNR == NR { size[$1] = $2; pk[$1] = $3; nfl[$1] = $4; next }
    {
      c = $1; l = $2; k = $3; key = c SUBSEP l SUBSEP k
      order[++n] = key; cap[n] = c; lab[n] = l; cor[n] = k
      wall[key] = $4; rss[key] = $5; anon[key] = $6
      if (l == "cat (read limit)") catw[c, k] = $4
    }
    function base(p) { sub(/.*\//, "", p); return p }
    END {
      if (fmt == "md") {
        print "| capture | query | cores | wall s | MB/s | packets/s | x cat | 2 cores / 1 | vs ceiling | peak RSS MiB | peak RssAnon MiB |"
        print "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
      } else {
        printf "%-20s %-17s %5s %8s %8s %11s %7s %6s %8s %8s %8s\n", "capture", "query", "cores", "wall s", "MB/s", "packets/s", "x cat", "2c/1c", "/ceiling", "RSS MiB", "anon MiB"
      }
      for (i = 1; i <= n; i++) {
        key = order[i]; c = cap[i]; l = lab[i]; k = cor[i]; w = wall[key]
        if (w <= 0) w = 1e-9
        mbs = size[c] / 1e6 / w; pps = pk[c] / w
        cw = catw[c, (k == "-" ? 2 : k)]
        xcat = (cw > 0) ? sprintf("%.3f", cw / w) : "-"
        sp = "-"
        if (k == 2 && wall[c, l, 1] > 0) sp = sprintf("%.2f", wall[c, l, 1] / w)
        vc = "-"
        if (l == "select_star" && wall[c, "ceiling_flows", k] > 0) vc = sprintf("%.2f", w / wall[c, "ceiling_flows", k])
        if (l == "count_packets" && wall[c, "ceiling_packets", k] > 0) vc = sprintf("%.2f", w / wall[c, "ceiling_packets", k])
        ll = l
        if (fmt == "md")
          printf "| %s | %s | %s | %.3f | %.1f | %.0f | %s | %s | %s | %.0f | %.0f |\n", base(c), ll, k, w, mbs, pps, xcat, sp, vc, rss[key] / 1024, anon[key] / 1024
        else
          printf "%-20s %-17s %5s %8.3f %8.1f %11.0f %7s %6s %8s %8.0f %8.0f\n", substr(base(c), 1, 20), substr(ll, 1, 17), k, w, mbs, pps, xcat, sp, vc, rss[key] / 1024, anon[key] / 1024
      }
    }' "$CAPINFO" "$RES"
}

# targets FORMAT: the targets of issue 6 on the first capture (the
# synthetic one by default); ratio >= 1 means met. Prints the query
# furthest from its throughput target last, as "worst LABEL".
targets() {
  awk -F'\t' -v fmt="$1" -v want="${CAPS[0]}" '
    FNR == NR { if ($1 == want) { size = $2; pk = $3 } ; next }
    $1 == want { wall[$2, $3] = $4; anon[$2, $3] = $6 }
    function pps(l, k) { return (wall[l, k] > 0) ? pk / wall[l, k] : -1 }
    function row(t, m, r, l) {
      status = (r < 0) ? "not measured" : (r >= 1 ? "met" : sprintf("missed by %.0f%%", (1 - r) * 100))
      if (fmt == "md") printf "| %s | %s | %s | %s |\n", t, m, (r < 0 ? "-" : sprintf("%.2f", r)), status
      else printf "%-62s %-28s %6s  %s\n", t, m, (r < 0 ? "-" : sprintf("%.2f", r)), status
    }
    function thr(t, l, k, goal,   p, r) {
      p = pps(l, k); r = (p < 0) ? -1 : p / goal
      row(t, (p < 0) ? "-" : sprintf("%.2fM packets/s", p / 1e6), r)
      if (r >= 0 && (worstr == "" || r < worstr)) { worstr = r; worst = l }
    }
    function ceil(t, l, c, k,   r) {
      if (wall[l, k] <= 0 || wall[c, k] <= 0) { row(t, "-", -1); return }
      x = wall[l, k] / wall[c, k]; row(t, sprintf("%.2fx the ceiling time", x), 1.2 / x)
    }
    function two(l,   r) {
      if (wall[l, 1] <= 0 || wall[l, 2] <= 0) { row("two cores >= 1.7x one core: " l, "-", -1); return }
      s = wall[l, 1] / wall[l, 2]; row("two cores >= 1.7x one core: " l, sprintf("%.2fx", s), s / 1.7)
    }
    END {
      if (fmt == "md") { print "| target | measured | ratio | status |"; print "|---|---|---:|---|" }
      thr("count(*) FROM flows >= 3M packets/s per core", "count_flows", 1, 3e6)
      thr("flow_meta columns only >= 3M packets/s per core", "flow_meta", 1, 3e6)
      thr("ja3, tls_sni, count(*) GROUP BY 1, 2 >= 2M packets/s per core", "ja3_sni", 1, 2e6)
      thr("one column of every group >= 700k packets/s per core", "every_group", 1, 7e5)
      thr("-o features.parquet SELECT * >= 250k packets/s (two cores)", "parquet", 2, 2.5e5)
      ceil("SELECT * as CSV within 20% of the SQLite ceiling", "select_star", "ceiling_flows", 2)
      ceil("count(*) FROM packets within 20% of the SQLite ceiling", "count_packets", "ceiling_packets", 2)
      two("count_flows"); two("flow_meta"); two("ja3_sni"); two("every_group")
      a = anon["select_star", 2]
      row("peak RssAnon < 300 MB, all features (SELECT *)", (a > 0) ? sprintf("%.0f MB", a * 1024 / 1e6) : "-", (a > 0) ? 300e6 / (a * 1024) : -1)
      a = anon["every_group", 2]
      row("peak RssAnon < 300 MB, one column of every group", (a > 0) ? sprintf("%.0f MB", a * 1024 / 1e6) : "-", (a > 0) ? 300e6 / (a * 1024) : -1)
      if (worst != "") print "worst " worst
    }' "$CAPINFO" "$RES"
}

echo
report text
echo
echo "targets (issue 6) on $(basename "${CAPS[0]}"):"
targets text | grep -v '^worst '
WORST=$(targets text | sed -n 's/^worst //p')

if [ "$WRITE_DOC" = 1 ]; then
  DOC=docs/PERFORMANCE.md
  GEN=$TMP/generated.md
  {
    echo "<!-- bench:begin: written by scripts/bench.sh --write-doc; edit outside these markers -->"
    echo "## Measured"
    echo
    echo "Run of $(date -u +%Y-%m-%d) on jjsql $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (modified)'), \`$("$JJ" --version 2>/dev/null | head -n 1)\`."
    echo
    echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), $(awk '/MemTotal/{printf "%.1f GB", $2*1024/1e9}' /proc/meminfo) RAM, $(go version | awk '{print $3}'), Linux $(uname -r); load average $LOAD0 before the run, $(cut -d' ' -f1-3 /proc/loadavg) after$(command -v tshark >/dev/null 2>&1 && echo ", $(tshark --version 2>/dev/null | head -n 1 | sed 's/\.$//')")."
    echo
    echo "Captures (page cache warm; packets are IP packets as jjsql counts them):"
    echo
    awk -F'\t' '{ c = $1; sub(/.*\//, "", c); printf "- `%s`: %.1f MB, %d packets, %d flows%s\n", c, $2 / 1e6, $3, $4, ($5 != "" ? "; " $5 : "") }' "$CAPINFO"
    echo
    echo "Queries: \`count_packets\` = \`SELECT count(*) FROM packets(f)\`; \`count_flows\` = \`SELECT count(*) FROM flows(f)\`;"
    echo "\`flow_meta\` = the $(awk -F', ' '{print NF}' <<<"$META") flow_meta columns; \`ja3_sni\` = \`SELECT ja3, tls_sni, count(*) FROM flows(f) GROUP BY 1, 2\`;"
    echo "\`every_group\` = \`SELECT total(...) + ... FROM flows(f)\` over one column of each of the $NGROUPS groups (computing every group, printing one number);"
    echo "\`select_star\` = \`SELECT * FROM flows(f)\` as CSV ($NCOLS columns) to /dev/null; \`ceiling_flows\` = the same rows and columns"
    echo "\`SELECT * FROM\` a plain SQLite table (built beforehand with \`CREATE TABLE AS\`) as CSV; \`ceiling_packets\` = \`count(*)\` over a recursive"
    echo "CTE of as many rows as the capture has packets (both through the same jjsql binary and SQLite build)."
    if [ "$PARQUET" = 1 ]; then echo "\`parquet\` = \`jjsql -o features.parquet \"SELECT * FROM flows(f)\"\`."; else echo "\`parquet\`: not measured (\`jjsql --help\` does not mention Parquet yet)."; fi
    echo "Cores 1 = GOMAXPROCS=1, 2 = the default. \`x cat\` = wall time of \`cat f > /dev/null\` in the same run / the query's wall time: the"
    echo "query's MB/s and packets/s as a fraction of the read limit (the same number for both). \`2 cores / 1\` = one-core wall / two-core wall."
    echo "\`vs ceiling\` = wall time / the ceiling's wall time (1.20 = 20% slower). Fastest of $RUNS runs (one run for anything over 10 s);"
    echo "peak RSS from wait4, peak RssAnon sampled every 10 ms by tools/peakmem."
    echo
    report md
    echo
    echo "### Targets (issue 6) on \`$(basename "${CAPS[0]}")\`"
    echo
    echo "Ratio = measured / target for throughput and memory (or target / measured); at least 1 means met."
    echo
    targets md | grep -v '^worst '
    if [ -n "$WORST" ]; then
      w="$WORST"
      case $w in
        count_flows) q="SELECT count(*) FROM flows('${CAPS[0]}')" ;;
        flow_meta) q="SELECT $META FROM flows('${CAPS[0]}')" ;;
        ja3_sni) q="SELECT ja3, tls_sni, count(*) FROM flows('${CAPS[0]}') GROUP BY 1, 2" ;;
        every_group) q="SELECT $EVERY FROM flows('${CAPS[0]}')" ;;
        *) q="SELECT * FROM flows('${CAPS[0]}')" ;;
      esac
      GOMAXPROCS=1 "$JJ" --cpuprofile "$TMP/cpu.prof" --format csv "$q" > /dev/null
      echo
      echo "### Profile of the query furthest from its target: \`$w\`, one core"
      echo
      echo '```'
      echo "\$ GOMAXPROCS=1 jjsql --cpuprofile cpu.prof ...; go tool pprof -top -nodecount=25 bin/jjsql cpu.prof"
      go tool pprof -top -nodecount=25 "$JJ" "$TMP/cpu.prof" 2>/dev/null | sed -n '/^Showing nodes/,$p'
      echo '```'
    fi
    echo "<!-- bench:end -->"
  } > "$GEN"
  if [ -f "$DOC" ] && grep -q '<!-- bench:begin' "$DOC" && grep -q '<!-- bench:end -->' "$DOC"; then
    awk -v gen="$GEN" '
      /<!-- bench:begin/ { while ((getline l < gen) > 0) print l; skip = 1; next }
      /<!-- bench:end -->/ { skip = 0; next }
      !skip { print }' "$DOC" > "$TMP/doc.md"
    cp "$TMP/doc.md" "$DOC"
  else
    { echo "# Performance"; echo; cat "$GEN"; } > "$DOC"
  fi
  echo "bench: wrote $DOC" >&2
fi
