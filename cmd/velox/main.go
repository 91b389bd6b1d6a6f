// Command velox is the Velox node, prover worker, key tool, wallet and
// benchmark runner.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	gnarklog "github.com/consensys/gnark/logger"
	"github.com/urfave/cli/v2"

	"github.com/veloxlabs/velox/bench"
)

func main() {
	bench.LoadgenMain() // the sequencer benchmark's load generator is this binary re-executed
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newApp().RunContext(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "velox:", err)
		os.Exit(1)
	}
}

func newApp() *cli.App {
	return &cli.App{
		Name:  "velox",
		Usage: "a prover-centric, validity-proven Ethereum L2 node",
		Description: "Velox preconfirms L2 payments in milliseconds, executes them with a parallel\n" +
			"(Block-STM) executor, proves every batch with Groth16 and settles it on Ethereum.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "log.level", Value: "info", Usage: "log level: debug, info, warn, error", EnvVars: []string{"VELOX_LOG_LEVEL"}},
		},
		Before: func(c *cli.Context) error {
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(c.String("log.level"))); err != nil {
				return fmt.Errorf("--log.level: %w", err)
			}
			slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})))
			if lvl > slog.LevelDebug {
				gnarklog.Disable() // gnark logs every compile and proof to stdout
			}
			return nil
		},
		Commands: []*cli.Command{nodeCommand(), proverCommand(), walletCommand(), keysCommand(), benchCommand()},
	}
}
