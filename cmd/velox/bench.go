package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/veloxlabs/velox/bench"
)

func benchCommand() *cli.Command {
	var names []string
	for _, s := range bench.Suites() {
		names = append(names, s.Name)
	}
	return &cli.Command{
		Name:      "bench",
		Usage:     "run benchmark suites and print their results",
		ArgsUsage: "SUITE... | all   (suites: " + strings.Join(names, ", ") + ")",
		Description: "Every speed metric is a ratio against a baseline measured in the same run\n" +
			"(gnark-crypto, gnark's prover, the sequential executor); absolute times are\n" +
			"printed beside it. With --json each result is one JSON line:\n" +
			`{"suite","case","metric","value","unit","baseline"}`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quick", Usage: "small inputs: each suite finishes in about a minute", EnvVars: []string{"VELOX_BENCH_QUICK"}},
			&cli.BoolFlag{Name: "full", Usage: "add the largest cases (e.g. 64-slot circuits)", EnvVars: []string{"VELOX_BENCH_FULL"}},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object per result instead of a table", EnvVars: []string{"VELOX_BENCH_JSON"}},
		},
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			if len(args) == 0 {
				return fmt.Errorf("name a suite or 'all' (suites: %s)", strings.Join(names, ", "))
			}
			var results []bench.Result
			emit := func(r bench.Result) {
				if c.Bool("json") {
					_ = bench.WriteJSON(os.Stdout, r)
					return
				}
				results = append(results, r)
				fmt.Fprintf(os.Stderr, "  %s/%s %s = %g %s\n", r.Suite, r.Case, r.Metric, r.Value, r.Unit)
			}
			err := bench.Run(c.Context, args, bench.Options{Quick: c.Bool("quick"), Full: c.Bool("full"), Log: slog.Default()}, emit)
			if !c.Bool("json") && len(results) > 0 {
				_ = bench.WriteTable(os.Stdout, results)
			}
			return err
		},
	}
}
