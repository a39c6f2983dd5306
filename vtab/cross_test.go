package vtab

import (
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jjsql/jjsql/schema"
)

// crossRows reads src_ip and every connection column of flows(path).
func crossRows(t *testing.T, path string) [][]schema.Value {
	t.Helper()
	env := NewEnv()
	tab := NewFlowsTable(env)
	args := make([]schema.Value, len(ArgNames()))
	args[0] = schema.TextV(path)
	used := make([]bool, len(tab.Columns()))
	var cols []int
	for i, c := range tab.Columns() {
		if c.Name == "src_ip" || strings.HasPrefix(c.Name, "conn_") {
			used[i] = true
			cols = append(cols, i)
		}
	}
	cur, err := tab.Open(args, used)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	var rows [][]schema.Value
	eachRow(t, cur, func() {
		row := make([]schema.Value, len(cols))
		for j, i := range cols {
			row[j] = cur.Column(i)
		}
		rows = append(rows, row)
	})
	return rows
}

// TestCrossPassBeside: with more than one core the connection group's first
// pass runs beside the second; the rows are those of the passes one after
// the other (one core), and a scan closed while its first pass still runs
// returns.
func TestCrossPassBeside(t *testing.T) {
	dir := sampleDir(t, 12)
	prev := runtime.GOMAXPROCS(1)
	want := crossRows(t, dir)
	runtime.GOMAXPROCS(max(prev, 2))
	got := crossRows(t, dir)
	runtime.GOMAXPROCS(prev)
	if len(want) != 12*38 || !reflect.DeepEqual(got, want) {
		t.Fatalf("%d rows beside, %d after (want %d): the rows differ", len(got), len(want), 12*38)
	}
	nonzero := 0
	for _, r := range want {
		if r[1].I != 0 {
			nonzero++
		}
	}
	if nonzero == 0 {
		t.Fatal("every connection value is zero")
	}

	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(prev, 2)))
	for _, reads := range []int{0, 1, 5} {
		env := NewEnv()
		tab := NewFlowsTable(env)
		args := make([]schema.Value, len(ArgNames()))
		args[0] = schema.TextV(dir)
		cur, err := tab.Open(args, nil)
		if err != nil {
			t.Fatal(err)
		}
		for range reads {
			if _, err := cur.Next(); err != nil {
				t.Fatal(err)
			}
		}
		done := make(chan struct{})
		go func() { cur.Close(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Close after %d rows did not return", reads)
		}
	}
}

// TestCrossPassInterrupted: a connection query whose Progress says stop
// ends with ErrInterrupted, whichever pass is running.
func TestCrossPassInterrupted(t *testing.T) {
	defer func(d time.Duration) { ProgressInterval = d }(ProgressInterval)
	ProgressInterval = 0
	dir := sampleDir(t, 12)
	for _, after := range []int{1, 3, 10} {
		env := NewEnv()
		calls := 0
		env.Progress = func(_, _, _ uint64) bool { calls++; return calls < after }
		tab := NewFlowsTable(env)
		args := make([]schema.Value, len(ArgNames()))
		args[0] = schema.TextV(dir)
		cur, err := tab.Open(args, nil)
		if err == nil {
			for {
				var ok bool
				if ok, err = cur.Next(); err != nil || !ok {
					break
				}
			}
			cur.Close()
		}
		if !errors.Is(err, ErrInterrupted) {
			t.Errorf("stop at call %d: error %v, want ErrInterrupted", after, err)
		}
	}
}
