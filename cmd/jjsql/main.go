//go:build sqlite_vtable

// Command jjsql runs SQL over packet captures.
//
//	jjsql "SELECT src_ip, dst_ip, total_packets FROM flows('x.pcap') ORDER BY 3 DESC LIMIT 10"
package main

import (
	"bufio"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/jjsql/jjsql/extractors"
	fnsqlite "github.com/jjsql/jjsql/functions/sqlite"
	"github.com/jjsql/jjsql/output"
	"github.com/jjsql/jjsql/schema"
	"github.com/jjsql/jjsql/vtab"
	"github.com/jjsql/jjsql/vtab/sqlite"
)

var version = "0.1.0-dev"

const usage = `jjsql: SQL over packet captures (JoyfulJay's flow features as SQLite tables)

Usage:
  jjsql [flags] "SQL"
  jjsql [flags] -f query.sql
  echo "SQL" | jjsql [flags]
  jjsql schema [--json] [--profile P]   the columns of flows(), or the feature-schema document
  jjsql [flags] [repl]                  interactive shell (the default on a terminal)

Tables (table-valued functions; the path is a file, a glob or a directory):
  flows(path, flow_timeout, terminate_on_fin_rst, max_concurrent_flows,
        flow_eviction_strategy, sampling_rate, sampling_seed, anonymize_ips,
        anonymization_salt, burst_threshold_ms, entropy_sample_bytes)
        one row per bidirectional flow; columns are JoyfulJay's feature names
  packets(path, ...same options...)
        one row per IP packet: headers, direction, flow_uid, payload
  flows_core(...), flows_extended(...), flows_experimental(...)
        flows() with the key columns and one JoyfulJay profile's features
        (the other features stay readable by name)
  features
        one row per column of flows(): name, grp, dtype, units, profile,
        default_value, description, ...

Examples:
  jjsql "SELECT count(*) FROM flows('capture.pcap')"
  jjsql "SELECT src_ip, dst_ip, dst_port, total_packets, duration
         FROM flows('traces/*.pcapng') ORDER BY total_bytes DESC LIMIT 10"
  jjsql --flow-timeout 30 "SELECT protocol, count(*) FROM flows('dir/') GROUP BY 1"
  jjsql "SELECT * FROM flows WHERE path = 'x.pcap' AND terminate_on_fin_rst = 0"
  jjsql --profile core --format csv -o core.csv "SELECT * FROM flows('x.pcap')"
  jjsql "SELECT name, default_value FROM features WHERE grp = 'tls'"
  jjsql --format json "WITH f AS MATERIALIZED (SELECT flow_uid, src_ip FROM flows('x.pcap'))
         SELECT f.src_ip, p.timestamp, p.payload_len FROM f JOIN packets('x.pcap') p USING (flow_uid)"

Flags:
`

// optFlag is a boolean flag stored in a map (Env.Options).
type optFlag struct {
	m   map[string]bool
	key string
}

func (o optFlag) String() string { return strconv.FormatBool(o.m[o.key]) }
func (o optFlag) Type() string   { return "bool" }
func (o optFlag) Set(s string) error {
	v, err := strconv.ParseBool(s)
	o.m[o.key] = v
	return err
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("jjsql", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	env := vtab.NewEnv()
	d := &env.Defaults
	format := fs.StringP("format", "F", "", "output format: table, csv, tsv, json, jsonl, markdown (default: table on a terminal, csv otherwise)")
	outPath := fs.StringP("output", "o", "", "write results to FILE instead of standard output")
	sqlFile := fs.StringP("file", "f", "", "read SQL from FILE")
	db := fs.String("db", ":memory:", "SQLite database to open (for your own tables and views)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	quiet := fs.BoolP("quiet", "q", false, "do not print warnings")
	cpuProfile := fs.String("cpuprofile", "", "write a Go CPU profile of the run to FILE (for go tool pprof)")
	memProfile := fs.String("memprofile", "", "write a Go allocation profile of the run to FILE when it ends (for go tool pprof)")
	showStats := fs.Bool("stats", false, "print each scan's work on stderr: rows, packets, flow tables, groups computed, records kept")
	profile := fs.String("profile", "all", "columns SELECT * FROM flows() returns: core, extended, experimental (the key columns and that JoyfulJay profile's features) or all")
	asJSON := fs.Bool("json", false, "with the schema command: write the versioned feature-schema document as JSON")
	fs.Float64Var(&d.FlowTimeout, "flow-timeout", d.FlowTimeout, "idle timeout in seconds: a packet later than this after its flow's last packet starts a new flow")
	fs.BoolVar(&d.TerminateOnFinRst, "terminate-on-fin-rst", d.TerminateOnFinRst, "end a TCP flow when the connection closes (RST, or FIN from both sides acknowledged)")
	fs.IntVar(&d.MaxConcurrentFlows, "max-concurrent-flows", d.MaxConcurrentFlows, "evict a flow when this many are open (0 = unlimited)")
	fs.StringVar(&d.EvictionStrategy, "flow-eviction-strategy", d.EvictionStrategy, "which flow to evict: lru or oldest")
	fs.Float64Var(&d.SamplingRate, "sampling-rate", d.SamplingRate, "probability of keeping each packet (1 = keep all)")
	fs.Int64Var(&d.SamplingSeed, "sampling-seed", d.SamplingSeed, "seed of the packet sampler (runs are reproducible)")
	fs.BoolVar(&d.AnonymizeIPs, "anonymize-ips", d.AnonymizeIPs, "replace src_ip and dst_ip by a salted SHA-256 prefix")
	fs.StringVar(&d.AnonymizationSalt, "anonymization-salt", d.AnonymizationSalt, "salt for --anonymize-ips")
	fs.Float64Var(&d.BurstThresholdMS, "burst-threshold-ms", d.BurstThresholdMS, "gap in milliseconds below which packets belong to one burst")
	fs.IntVar(&d.EntropySampleBytes, "entropy-sample-bytes", d.EntropySampleBytes, "per-direction payload budget of the entropy features")
	fs.BoolVar(&d.ConnectionUsePorts, "connection-use-ports", d.ConnectionUsePorts, "connection features: graph nodes are address:port instead of address")
	fs.IntVar(&d.MaxSequenceLength, "max-sequence-length", d.MaxSequenceLength, "packets in the per-packet sequence columns")
	fs.IntVar(&d.MaxPacketRecords, "max-packet-records", d.MaxPacketRecords, "per-packet records one flow keeps (0 = no cap): bounds the memory of very long flows; statistics over packets beyond it are not exact")
	env.Options = map[string]bool{}
	for _, o := range []struct{ opt, help string }{
		{extractors.OptRawSequences, "show the per-packet sequence columns (iat_sequence, timestamp_sequence, pkt_len_sequence, direction_sequence) in SELECT *"},
		{extractors.OptSPLT, "show the SPLT columns (splt_lengths, splt_times) in SELECT *"},
		{extractors.OptConnTemporal, "show the temporal connection columns (conn_src_flow_rate, conn_temporal_spread, conn_burst_connections) in SELECT *"},
	} {
		env.Options[o.opt] = false
		fs.Var(optFlag{env.Options, o.opt}, strings.ReplaceAll(o.opt, "_", "-"), o.help)
		fs.Lookup(strings.ReplaceAll(o.opt, "_", "-")).NoOptDefVal = "true"
	}
	ex := addExportFlags(fs, stderr)
	argv = ex.subcommand(fs, argv)
	if err := fs.Parse(argv); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "jjsql:", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "jjsql:", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		defer func() {
			f, err := os.Create(*memProfile)
			if err != nil {
				fmt.Fprintln(stderr, "jjsql:", err)
				return
			}
			defer f.Close()
			pprof.Lookup("allocs").WriteTo(f, 0)
		}()
	}
	if *showStats {
		env.OnScanEnd = func(st vtab.ScanStats) { fmt.Fprintln(stderr, "jjsql: scan:", formatStats(st)) }
	}
	if *showVersion {
		fmt.Fprintln(stdout, "jjsql", version)
		return 0
	}
	if err := d.Validate(); err != nil {
		fmt.Fprintln(stderr, "jjsql:", strings.TrimPrefix(err.Error(), "flows: "))
		return 2
	}
	p, err := schema.ParseProfile(*profile)
	if err != nil {
		fmt.Fprintln(stderr, "jjsql:", strings.TrimPrefix(err.Error(), "schema: "))
		return 2
	}
	env.Profile = p

	if wantsREPL(fs.Args(), stdin, stdout, *sqlFile) {
		return runREPL(env, *db, *format, *outPath, *quiet)
	}

	// The SQL: argument, -f file, or standard input; or the schema command.
	var query string
	schemaCmd := fs.NArg() > 0 && fs.Arg(0) == "schema"
	switch {
	case schemaCmd:
		if fs.NArg() > 1 {
			fmt.Fprintln(stderr, "jjsql: schema takes no arguments")
			return 2
		}
		query = schemaQuery(p, env.Options)
	case *asJSON:
		fmt.Fprintln(stderr, "jjsql: --json is a flag of the schema command (jjsql schema --json)")
		return 2
	case fs.NArg() > 0:
		query = strings.Join(fs.Args(), " ")
	case *sqlFile != "":
		b, err := os.ReadFile(*sqlFile)
		if err != nil {
			fmt.Fprintln(stderr, "jjsql:", err)
			return 2
		}
		query = string(b)
	case !isTerminal(stdin):
		b, err := io.ReadAll(stdin)
		if err != nil {
			fmt.Fprintln(stderr, "jjsql:", err)
			return 2
		}
		query = string(b)
	default:
		fs.Usage()
		return 2
	}

	if ex.active(*outPath) {
		return ex.run(env, query, *db, *outPath, *format, *quiet, stdout, stderr)
	}
	out := stdout
	if *outPath != "" {
		f, err := os.Create(*outPath)
		if err != nil {
			fmt.Fprintln(stderr, "jjsql:", err)
			return 1
		}
		defer f.Close()
		out = f
	}
	if *format == "" {
		*format = "csv"
		if *outPath == "" && isTerminal(stdout) {
			*format = "table"
		}
	}
	if _, err := output.New(*format, io.Discard); err != nil {
		fmt.Fprintln(stderr, "jjsql:", strings.TrimPrefix(err.Error(), "output: "))
		return 2
	}
	warned := map[string]bool{}
	env.Warn = func(msg string) {
		if *quiet || warned[msg] {
			return
		}
		warned[msg] = true
		fmt.Fprintln(stderr, "jjsql: warning:", msg)
	}

	if schemaCmd && *asJSON {
		bw := bufio.NewWriter(out)
		err := vtab.WriteSchemaJSON(bw, version)
		if err == nil {
			err = bw.Flush()
		}
		if err != nil {
			fmt.Fprintln(stderr, "jjsql:", err)
			return 1
		}
		return 0
	}

	conn := sqlite.Open(env, *db, fnsqlite.Register)
	defer conn.Close()
	conn.SetMaxOpenConns(1) // temp views and attachments live on one connection
	bw := bufio.NewWriterSize(out, 1<<16)
	defer bw.Flush()
	for _, stmt := range SplitStatements(query) {
		if err := runStatement(conn, stmt, *format, bw); err != nil {
			bw.Flush()
			fmt.Fprintln(stderr, "jjsql:", oneLine(err))
			return 1
		}
	}
	if err := bw.Flush(); err != nil {
		fmt.Fprintln(stderr, "jjsql:", err)
		return 1
	}
	return 0
}

// schemaQuery lists the columns SELECT * FROM flows() returns under profile
// p (all columns for NoProfile), in that order.
func schemaQuery(p schema.Profile, options map[string]bool) string {
	const cols = "name, grp, dtype, units, profile, default_value, description"
	shown := "option = ''"
	for _, o := range slices.Sorted(maps.Keys(options)) {
		if options[o] {
			shown += " OR option = '" + o + "'"
		}
	}
	if p == schema.NoProfile {
		return "SELECT row_number() OVER (ORDER BY position) - 1 AS position, " + cols + " FROM features WHERE " + shown + " ORDER BY position"
	}
	var q strings.Builder
	q.WriteString("SELECT row_number() OVER (ORDER BY CASE name")
	for i, k := range vtab.KeyColumns {
		fmt.Fprintf(&q, " WHEN '%s' THEN %d", k, i)
	}
	fmt.Fprintf(&q, " ELSE %d END, position) - 1 AS position, %s FROM features WHERE (%s) AND (flow_key OR profile = '%s') ORDER BY 1",
		len(vtab.KeyColumns), cols, shown, p.String())
	return q.String()
}

func oneLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func runStatement(db *sql.DB, stmt, format string, w io.Writer) error {
	rows, err := db.Query(stmt)
	if err != nil {
		return err
	}
	defer rows.Close()
	return output.WriteResult(w, format, rows, nil)
}

// isTerminal reports whether x is an interactive terminal (not merely a
// character device such as /dev/null).
func isTerminal(x any) bool {
	f, ok := x.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// formatStats is one line of --stats.
func formatStats(st vtab.ScanStats) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s rows=%d packets=%d", st.Table, st.Rows, st.Packets)
	if st.Assembled {
		fmt.Fprintf(&b, " flow_tables=%d records=%d bytes_kept=%d rows_waiting_max=%d cross_pass=%v",
			max(st.Workers, 1), st.Work.Records, st.Work.BytesKept, st.RowsWaiting, st.CrossPass)
		if st.RowsSpilled > 0 {
			fmt.Fprintf(&b, " rows_spilled=%d spilled_bytes=%d", st.RowsSpilled, st.SpilledBytes)
		}
	}
	if len(st.ComputeCalls) > 0 {
		b.WriteString(" groups=")
		for i, g := range slices.Sorted(maps.Keys(st.ComputeCalls)) {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(g)
		}
	}
	return b.String()
}
