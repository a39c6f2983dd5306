// Package vtab is jjsql's SQL surface without an SQL engine: the definitions
// of the flows and packets tables (columns, argument columns), the planning of
// which feature groups a query needs, and cursors that yield Go values. Thin
// adapters (vtab/sqliteadapter for mattn/go-sqlite3; later DuckDB and the
// loadable extension) translate these into an engine's callbacks.
package vtab

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

// ColKind says what a column holds.
type ColKind uint8

const (
	KindFeature ColKind = iota // a feature computed from a flow (flows table)
	KindField                  // a per-table field (packets columns, flow_uid)
	KindArg                    // a HIDDEN argument column (path, options)
	KindAlias                  // a HIDDEN second name of a feature column (Arg holds the column index)
)

// ColumnDef describes one column of a table.
type ColumnDef struct {
	Name   string
	Type   schema.Type
	Hidden bool
	Kind   ColKind
	Arg    int // argument index for KindArg; target column for KindAlias
	Doc    string
}

// Table is an engine-neutral table-valued function.
type Table interface {
	Name() string
	Columns() []ColumnDef
	// Open starts a scan. args holds one value per argument (NULL when the
	// query did not give it); used marks the columns the query reads (nil
	// means all).
	Open(args []schema.Value, used []bool) (Cursor, error)
}

// Cursor walks the rows of one scan.
type Cursor interface {
	// Next advances to the next row; it returns false at the end.
	Next() (bool, error)
	// Column returns column i of the current row. Values are valid until Next.
	Column(i int) schema.Value
	// Rowid returns a number unique within the scan.
	Rowid() int64
	Close() error
}

// Env carries what every table of one connection shares: the option defaults
// of the run (set by jjsql's flags) and where warnings go.
type Env struct {
	Defaults flows.Config
	// Profile, when set, restricts the visible columns of flows() to the
	// key columns and that profile's features (as flows_core and the other
	// profile views do); the other features stay readable by name.
	Profile schema.Profile
	// Warn receives one-line warnings (a capture that ended early, skipped
	// files). nil discards them.
	Warn func(msg string)
	// OnScanEnd, when set, receives the statistics of each finished scan.
	OnScanEnd func(ScanStats)
	// Options turns on JoyfulJay's column options (include_raw_sequences,
	// include_splt, connection_include_temporal): the columns they name are
	// visible in flows(); otherwise they are HIDDEN (still readable by name).
	// Read when a table is created.
	Options map[string]bool
	// Workers is how many flow tables a flows() scan runs in parallel; 0
	// means one per core (GOMAXPROCS). Options that depend on the global
	// order of packets (max_concurrent_flows, sampling_rate) run one.
	Workers int
	// Progress, when set, is called during a scan at most about every
	// ProgressInterval with the bytes read so far of the scan's input, the
	// input's total size (0 when unknown; the bytes of a gzip capture count
	// its decompressed data, so they may pass the total) and the packets
	// read. Returning false stops the scan: the cursor fails with
	// ErrInterrupted. It runs on the goroutine that drives the cursor.
	Progress func(bytesRead, bytesTotal, packets uint64) bool
}

// ProgressInterval is the least time between two calls of Env.Progress
// within one scan.
var ProgressInterval = 200 * time.Millisecond

// ErrInterrupted is the error of a scan that Env.Progress stopped.
var ErrInterrupted = errors.New("vtab: interrupted")

// NewEnv returns an Env with JoyfulJay's defaults.
func NewEnv() *Env { return &Env{Defaults: flows.DefaultConfig()} }

func (e *Env) warn(format string, a ...any) {
	if e != nil && e.Warn != nil {
		e.Warn(fmt.Sprintf(format, a...))
	}
}

// ScanStats counts the work of one scan.
type ScanStats struct {
	Table        string
	Rows         uint64
	Packets      uint64
	Work         flows.WorkStats
	ComputeCalls map[string]uint64 // per group id
	Assembled    bool              // the flow table was run
	CrossPass    bool              // a first pass over the input ran for a cross-flow group
	Workers      int               // flow tables the scan ran in parallel (flows)
	// RowsWaiting is the most finished flows that waited at once for an
	// earlier flow to end, so that rows come out in flow_uid order.
	RowsWaiting int
	// RowsSpilled counts the waiting rows whose cells went to a temporary
	// file (past 16 MiB of waiting cells), SpilledBytes their bytes.
	RowsSpilled  uint64
	SpilledBytes int64
}

// argDef is one argument column: a Config option (or the path).
type argDef struct {
	name string
	typ  schema.Type
	doc  string
	get  func(o *options) schema.Value
	set  func(o *options, v schema.Value) error
}

type options struct {
	path string
	cfg  flows.Config
}

// Arguments common to flows() and packets(), in their documented order.
var args = []argDef{
	{"path", schema.Text, "capture file, glob or directory",
		func(o *options) schema.Value { return schema.TextV(o.path) },
		func(o *options, v schema.Value) (err error) { o.path, err = asText(v, "path"); return }},
	{"flow_timeout", schema.Real, "idle timeout in seconds",
		func(o *options) schema.Value { return schema.RealV(o.cfg.FlowTimeout) },
		func(o *options, v schema.Value) (err error) {
			o.cfg.FlowTimeout, err = asReal(v, "flow_timeout")
			return
		}},
	{"terminate_on_fin_rst", schema.Bool, "end a TCP flow when the connection closes (1) or keep it open (0)",
		func(o *options) schema.Value { return schema.BoolV(o.cfg.TerminateOnFinRst) },
		func(o *options, v schema.Value) (err error) {
			o.cfg.TerminateOnFinRst, err = asBool(v, "terminate_on_fin_rst")
			return
		}},
	{"max_concurrent_flows", schema.Int, "0 = unlimited, else evict a flow before opening one more",
		func(o *options) schema.Value { return schema.IntV(int64(o.cfg.MaxConcurrentFlows)) },
		func(o *options, v schema.Value) error {
			n, err := asInt(v, "max_concurrent_flows")
			o.cfg.MaxConcurrentFlows = int(n)
			return err
		}},
	{"flow_eviction_strategy", schema.Text, "'lru' or 'oldest'",
		func(o *options) schema.Value { return schema.TextV(o.cfg.EvictionStrategy) },
		func(o *options, v schema.Value) (err error) {
			o.cfg.EvictionStrategy, err = asText(v, "flow_eviction_strategy")
			return
		}},
	{"sampling_rate", schema.Real, "probability of keeping each packet (1 = all)",
		func(o *options) schema.Value { return schema.RealV(o.cfg.SamplingRate) },
		func(o *options, v schema.Value) (err error) {
			o.cfg.SamplingRate, err = asReal(v, "sampling_rate")
			return
		}},
	{"sampling_seed", schema.Int, "seed of the packet sampler",
		func(o *options) schema.Value { return schema.IntV(o.cfg.SamplingSeed) },
		func(o *options, v schema.Value) (err error) {
			o.cfg.SamplingSeed, err = asInt(v, "sampling_seed")
			return
		}},
	{"anonymize_ips", schema.Bool, "replace src_ip/dst_ip by a salted hash",
		func(o *options) schema.Value { return schema.BoolV(o.cfg.AnonymizeIPs) },
		func(o *options, v schema.Value) (err error) {
			o.cfg.AnonymizeIPs, err = asBool(v, "anonymize_ips")
			return
		}},
	{"anonymization_salt", schema.Text, "salt of anonymize_ips",
		func(o *options) schema.Value { return schema.TextV(o.cfg.AnonymizationSalt) },
		func(o *options, v schema.Value) (err error) {
			o.cfg.AnonymizationSalt, err = asText(v, "anonymization_salt")
			return
		}},
	{"burst_threshold_ms", schema.Real, "gap (ms) below which packets belong to one burst",
		func(o *options) schema.Value { return schema.RealV(o.cfg.BurstThresholdMS) },
		func(o *options, v schema.Value) (err error) {
			o.cfg.BurstThresholdMS, err = asReal(v, "burst_threshold_ms")
			return
		}},
	{"entropy_sample_bytes", schema.Int, "per-direction payload budget of the entropy features",
		func(o *options) schema.Value { return schema.IntV(int64(o.cfg.EntropySampleBytes)) },
		func(o *options, v schema.Value) error {
			n, err := asInt(v, "entropy_sample_bytes")
			o.cfg.EntropySampleBytes = int(n)
			return err
		}},
	{"connection_use_ports", schema.Bool, "connection group: graph nodes are address:port instead of address",
		func(o *options) schema.Value { return schema.BoolV(o.cfg.ConnectionUsePorts) },
		func(o *options, v schema.Value) (err error) {
			o.cfg.ConnectionUsePorts, err = asBool(v, "connection_use_ports")
			return
		}},
	{"max_sequence_length", schema.Int, "packets in the per-packet sequence columns",
		func(o *options) schema.Value { return schema.IntV(int64(o.cfg.MaxSequenceLength)) },
		func(o *options, v schema.Value) error {
			n, err := asInt(v, "max_sequence_length")
			o.cfg.MaxSequenceLength = int(n)
			return err
		}},
	{"max_packet_records", schema.Int, "per-packet records one flow keeps (0 = no cap); statistics over packets beyond it are not exact (docs/MEMORY.md)",
		func(o *options) schema.Value { return schema.IntV(int64(o.cfg.MaxPacketRecords)) },
		func(o *options, v schema.Value) error {
			n, err := asInt(v, "max_packet_records")
			o.cfg.MaxPacketRecords = int(n)
			return err
		}},
}

// ArgNames returns the argument columns in positional order.
func ArgNames() []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a.name
	}
	return out
}

func argColumns() []ColumnDef {
	out := make([]ColumnDef, len(args))
	for i, a := range args {
		out[i] = ColumnDef{Name: a.name, Type: a.typ, Hidden: true, Kind: KindArg, Arg: i, Doc: a.doc}
	}
	return out
}

// resolve applies the given argument values over the defaults.
func resolve(env *Env, table string, vals []schema.Value) (options, error) {
	o := options{cfg: env.Defaults}
	for i, v := range vals {
		if i >= len(args) || v.IsNull() {
			continue
		}
		if err := args[i].set(&o, v); err != nil {
			return o, tableErr(table, err)
		}
	}
	if o.path == "" {
		return o, fmt.Errorf("%s: path argument required, e.g. SELECT * FROM %s('capture.pcap')", table, table)
	}
	if err := o.cfg.Validate(); err != nil {
		return o, tableErr(table, err)
	}
	return o, nil
}

func asText(v schema.Value, name string) (string, error) {
	switch v.Kind {
	case schema.Text:
		return v.S, nil
	case schema.Blob:
		return string(v.B), nil
	}
	return "", fmt.Errorf("%s must be text, got %s", name, v.String())
}

func asReal(v schema.Value, name string) (float64, error) {
	switch v.Kind {
	case schema.Real:
		return v.F, nil
	case schema.Int, schema.Bool:
		return float64(v.I), nil
	}
	return 0, fmt.Errorf("%s must be a number, got %q", name, v.String())
}

func asInt(v schema.Value, name string) (int64, error) {
	switch v.Kind {
	case schema.Int, schema.Bool:
		return v.I, nil
	case schema.Real:
		if v.F == float64(int64(v.F)) {
			return int64(v.F), nil
		}
	}
	return 0, fmt.Errorf("%s must be an integer, got %q", name, v.String())
}

func asBool(v schema.Value, name string) (bool, error) {
	switch v.Kind {
	case schema.Int, schema.Bool:
		return v.I != 0, nil
	case schema.Real:
		return v.F != 0, nil
	case schema.Text:
		switch strings.ToLower(v.S) {
		case "1", "true", "yes", "on":
			return true, nil
		case "0", "false", "no", "off":
			return false, nil
		}
	}
	return false, fmt.Errorf("%s must be 0 or 1, got %q", name, v.String())
}

// ArgValue converts an argument of a table function as an engine adapter
// receives it (database/sql's Go values) to a Value: a blob is read as text
// (a path may come as either), an unknown type as its text.
func ArgValue(v any) schema.Value {
	switch x := v.(type) {
	case nil:
		return schema.NullV()
	case string:
		return schema.TextV(x)
	case []byte:
		return schema.TextV(string(x))
	case bool:
		return schema.BoolV(x)
	case int64:
		return schema.IntV(x)
	case int32:
		return schema.IntV(int64(x))
	case int:
		return schema.IntV(int64(x))
	case float64:
		return schema.RealV(x)
	case float32:
		return schema.RealV(float64(x))
	}
	return schema.TextV(fmt.Sprint(v))
}
