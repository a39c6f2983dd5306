package vtab

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/jjsql/jjsql/schema"
)

// TestSpillSameRows: rows whose cells wait in the spill file come out the
// same, in the same order, as rows kept in memory, whatever the threshold.
func TestSpillSameRows(t *testing.T) {
	defer func(n int) { spillAt = n }(spillAt)
	read := func() ([][]schema.Value, ScanStats) {
		env := NewEnv()
		env.Workers = 2
		var st ScanStats
		env.OnScanEnd = func(s ScanStats) { st = s }
		tab := NewFlowsTable(env)
		args := make([]schema.Value, len(ArgNames()))
		args[0] = schema.TextV("../testdata/sample.pcap*") // sample.pcap and sample.pcapng
		cur, err := tab.Open(args, nil)
		if err != nil {
			t.Fatal(err)
		}
		var rows [][]schema.Value
		eachRow(t, cur, func() {
			row := make([]schema.Value, len(tab.Columns()))
			for i := range row {
				row[i] = cur.Column(i)
				if row[i].Kind == schema.Blob {
					row[i].B = append([]byte(nil), row[i].B...)
				}
			}
			rows = append(rows, row)
		})
		cur.Close()
		return rows, st
	}
	spillAt = 1 << 30
	want, st := read()
	if len(want) != 76 || st.RowsSpilled != 0 {
		t.Fatalf("%d rows, %d spilled; want 76 and none", len(want), st.RowsSpilled)
	}
	for _, at := range []int{0, 2000, 20000} {
		t.Run(fmt.Sprint(at), func(t *testing.T) {
			spillAt = at
			got, st := read()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("rows differ from the rows kept in memory")
			}
			if st.RowsSpilled == 0 || st.SpilledBytes == 0 || at == 0 && st.RowsSpilled != 76 {
				t.Errorf("%d rows spilled (%d bytes)", st.RowsSpilled, st.SpilledBytes)
			}
		})
	}
}
