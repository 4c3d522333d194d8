package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"text/tabwriter"
)

// Table collects the results: one row per measure, one column per target,
// and the ratio of ours through kube-apiserver to the CRD.
type Table struct {
	mu      sync.Mutex
	rows    []*row
	byName  map[string]*row
	noRatio map[string]bool
	memory  []memoryRow
	summary []string
}

type row struct {
	name, unit   string
	higherBetter bool
	values       map[string]float64
}

type memoryRow struct {
	name          string
	before, after float64
	unit          string
}

// NewTable returns an empty table.
func NewTable() *Table {
	return &Table{byName: map[string]*row{}, noRatio: map[string]bool{}}
}

// Add sets target's value in the row name (created on first use, in order).
func (t *Table) Add(name, unit string, higherBetter bool, target string, value float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.byName[name]
	if r == nil {
		r = &row{name: name, unit: unit, higherBetter: higherBetter, values: map[string]float64{}}
		t.byName[name] = r
		t.rows = append(t.rows, r)
	}
	r.values[target] = value
}

// Note marks rows whose ratio means nothing (a server the CRD does not use).
func (t *Table) Note(names ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, n := range names {
		t.noRatio[n] = true
	}
}

// AddMemory adds a line to the memory section.
func (t *Table) AddMemory(name string, before, after float64, unit string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.memory = append(t.memory, memoryRow{name, before, after, unit})
}

// AddSummary adds a line under the table.
func (t *Table) AddSummary(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.summary = append(t.summary, line)
}

// Value returns a cell, for tests and the targets.
func (t *Table) Value(name, target string) (float64, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.byName[name]
	if r == nil {
		return 0, false
	}
	v, ok := r.values[target]
	return v, ok
}

// Advantage is how many times better ours (through kube-apiserver) does
// than the CRD on a row: ours/CRD for throughputs, CRD/ours for times,
// CPU and sizes. Above 1, ours is better.
func Advantage(ours, crd float64, higherBetter bool) float64 {
	if higherBetter {
		return ours / crd
	}
	return crd / ours
}

// Print writes the table as aligned text (also valid Markdown).
func (t *Table) Print(w io.Writer, ours, crd, direct string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.Debug)
	fmt.Fprintf(tw, "| measure\t unit\t %s\t %s\t %s\t ours vs CRD\t\n", ours, crd, direct)
	fmt.Fprintf(tw, "|---\t---\t---:\t---:\t---:\t---:\t\n")
	for _, r := range t.rows {
		ratio := ""
		o, okO := r.values[ours]
		c, okC := r.values[crd]
		if okO && okC && !t.noRatio[r.name] {
			if a := Advantage(o, c, r.higherBetter); !math.IsInf(a, 0) && !math.IsNaN(a) {
				ratio = fmt.Sprintf("%.2fx", a)
			}
		}
		cell := func(target string) string {
			v, ok := r.values[target]
			if !ok {
				return ""
			}
			return formatValue(v)
		}
		fmt.Fprintf(tw, "| %s\t %s\t %s\t %s\t %s\t %s\t\n", r.name, r.unit, cell(ours), cell(crd), cell(direct), ratio)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nours vs CRD: how many times better ours through kube-apiserver does than the CRD (ours/CRD for ops/s and events/s, CRD/ours for times and CPU).")
	if len(t.memory) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.Debug)
		fmt.Fprintf(tw, "| memory\t before\t after\t added\t\n|---\t---:\t---:\t---:\t\n")
		for _, m := range t.memory {
			fmt.Fprintf(tw, "| %s\t %.0f %s\t %.0f %s\t %.0f %s\t\n", m.name, m.before, m.unit, m.after, m.unit, m.after-m.before, m.unit)
		}
		tw.Flush()
	}
	if len(t.summary) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, strings.Join(t.summary, "\n"))
	}
}

func formatValue(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}
