package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/veloxlabs/velox/prover"
	"github.com/veloxlabs/velox/prover/circuit"
)

// circuitFlags select a batch circuit; the node has the same flags.
func circuitFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "circuit.slots", Value: 8, Usage: "operation slots (16-byte pubdata chunks) per batch", EnvVars: []string{"VELOX_CIRCUIT_SLOTS"}},
		&cli.IntFlag{Name: "circuit.depth", Value: 16, Usage: "account tree depth (up to 32; 2^depth accounts)", EnvVars: []string{"VELOX_CIRCUIT_DEPTH"}},
		&cli.Uint64Flag{Name: "chain-id", Value: 4242, Usage: "L2 chain id signed into every transaction", EnvVars: []string{"VELOX_CHAIN_ID"}},
		&cli.StringFlag{Name: "keys", Value: filepath.Join("velox-data", "keys"), Usage: "directory of circuit keys", EnvVars: []string{"VELOX_KEYS"}},
	}
}

func circuitConfig(c *cli.Context) (circuit.Config, error) {
	cfg := circuit.Config{Slots: c.Int("circuit.slots"), Depth: c.Int("circuit.depth"), ChainID: c.Uint64("chain-id")}
	return cfg, cfg.Check()
}

// progress prints key stages with their elapsed time, on stderr.
func progress() func(string) {
	start := time.Now()
	last := ""
	return func(stage string) {
		if last != "" {
			fmt.Fprintf(os.Stderr, " done (%s)\n", time.Since(start).Round(100*time.Millisecond))
			last = ""
		}
		if stage == "ready" { // the keys are loaded: close the last line
			return
		}
		msg := map[string]string{
			"compile": "compiling the batch circuit",
			"setup":   "running the development setup (unsafe; once per circuit, a few minutes at depth 32)",
			"write":   "writing keys",
			"load":    "loading cached keys",
		}[stage]
		if msg == "" {
			msg = stage
		}
		fmt.Fprintf(os.Stderr, "keys: %s...", msg)
		last, start = stage, time.Now()
	}
}

func keysCommand() *cli.Command {
	return &cli.Command{
		Name:  "keys",
		Usage: "make, inspect and export circuit keys",
		Subcommands: []*cli.Command{
			{
				Name:  "setup",
				Usage: "compile the batch circuit and make its keys with the UNSAFE development setup (cached)",
				Description: "Development keys come from one process's randomness and must never secure real\n" +
					"value; production keys come from gnark's MPC ceremony (docs/KEYS.md).",
				Flags: circuitFlags(),
				Action: func(c *cli.Context) error {
					k, err := loadKeys(c, true)
					if err != nil {
						return err
					}
					return printInfo(c, k)
				},
			},
			{
				Name:  "info",
				Usage: "print a circuit's shape, hash, constraint count and key location",
				Flags: circuitFlags(),
				Action: func(c *cli.Context) error {
					k, err := loadKeys(c, false)
					if err != nil {
						return err
					}
					return printInfo(c, k)
				},
			},
			{
				Name:  "export-verifier",
				Usage: "write the Solidity verifier of the circuit's verifying key",
				Flags: append(circuitFlags(), &cli.StringFlag{Name: "out", Value: "Verifier.sol", Usage: "output file (- for stdout)"}),
				Action: func(c *cli.Context) error {
					k, err := loadKeys(c, false)
					if err != nil {
						return err
					}
					if c.String("out") == "-" {
						return k.ExportVerifier(os.Stdout)
					}
					f, err := os.Create(c.String("out"))
					if err != nil {
						return err
					}
					if err := k.ExportVerifier(f); err != nil {
						f.Close()
						return err
					}
					fmt.Fprintln(os.Stderr, "wrote", c.String("out"))
					return f.Close()
				},
			},
		},
	}
}

func loadKeys(c *cli.Context, setup bool) (*prover.Keys, error) {
	cfg, err := circuitConfig(c)
	if err != nil {
		return nil, err
	}
	p := progress()
	k, err := prover.LoadOrSetup(c.Context, c.String("keys"), cfg, prover.KeyOptions{Setup: setup, Progress: p})
	if err == nil {
		fmt.Fprintln(os.Stderr, " done")
	} else {
		fmt.Fprintln(os.Stderr)
	}
	if err != nil && !setup {
		return nil, fmt.Errorf("%w (run `velox keys setup` with the same flags first)", err)
	}
	return k, err
}

func printInfo(c *cli.Context, k *prover.Keys) error {
	fmt.Printf("circuit:      %v (%d slots, depth %d, chain id %d)\n", k.Config, k.Config.Slots, k.Config.Depth, k.Config.ChainID)
	fmt.Printf("hash:         %x\n", k.CircuitHash)
	fmt.Printf("constraints:  %d\n", k.CCS.GetNbConstraints())
	fmt.Printf("keys:         %s\n", prover.KeyDir(c.String("keys"), k.Config, k.CircuitHash))
	if k.Dev {
		fmt.Println("setup:        development (UNSAFE: never secure real value with these keys)")
	} else {
		fmt.Println("setup:        ceremony")
	}
	return nil
}
