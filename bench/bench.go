// Package bench holds the macro benchmark suites behind `make bench` and
// `velox bench`. Every speed claim is a ratio against a baseline measured
// in the same run on the same inputs; absolute numbers are reported beside
// it. No package imports bench.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
)

// Result is one measurement, printed as one JSON line by `velox bench --json`.
type Result struct {
	Suite  string  `json:"suite"`
	Case   string  `json:"case"`
	Metric string  `json:"metric"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	// Baseline names what a ratio metric is measured against (e.g.
	// "sequential executor, same run"); empty for absolute metrics.
	Baseline string `json:"baseline"`
}

// Options tune a run.
type Options struct {
	// Quick shrinks every suite to finish in about a minute.
	Quick bool
	// Full adds the largest cases (e.g. 64-slot circuits).
	Full bool
	Log  *slog.Logger
}

// Suite is one benchmark suite.
type Suite struct {
	Name string
	Doc  string
	Run  func(ctx context.Context, o Options, emit func(Result)) error
}

var registry []Suite

func register(s Suite) { registry = append(registry, s) }

// Suites returns the registered suites in name order.
func Suites() []Suite {
	s := slices.Clone(registry)
	sort.Slice(s, func(i, j int) bool { return s[i].Name < s[j].Name })
	return s
}

// ErrUnknownSuite is returned by Run for a name no suite has.
var ErrUnknownSuite = errors.New("bench: unknown suite")

// Run runs the named suites ("all" for every one) in order, passing each
// result to emit as soon as it is measured.
func Run(ctx context.Context, names []string, o Options, emit func(Result)) error {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	var run []Suite
	for _, n := range names {
		if n == "all" {
			run = append(run, Suites()...)
			continue
		}
		i := slices.IndexFunc(registry, func(s Suite) bool { return s.Name == n })
		if i < 0 {
			return fmt.Errorf("%w %q (have: %s)", ErrUnknownSuite, n, strings.Join(suiteNames(), ", "))
		}
		run = append(run, registry[i])
	}
	for _, s := range run {
		o.Log.Info("running benchmark suite", "suite", s.Name, "quick", o.Quick)
		if err := s.Run(ctx, o, emit); err != nil {
			return fmt.Errorf("suite %s: %w", s.Name, err)
		}
	}
	return nil
}

func suiteNames() []string {
	var n []string
	for _, s := range Suites() {
		n = append(n, s.Name)
	}
	return n
}

// WriteJSON writes r as one JSON line.
func WriteJSON(w io.Writer, r Result) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteTable prints results as one aligned table.
func WriteTable(w io.Writer, rs []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SUITE\tCASE\tMETRIC\tVALUE\tUNIT\tBASELINE")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Suite, r.Case, r.Metric, formatValue(r.Value), r.Unit, r.Baseline)
	}
	return tw.Flush()
}

func formatValue(v float64) string {
	switch {
	case v == float64(int64(v)) && v < 1e15 && v > -1e15:
		return fmt.Sprintf("%d", int64(v))
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}
