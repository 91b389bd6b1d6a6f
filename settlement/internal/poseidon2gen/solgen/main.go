// Command solgen writes settlement/contracts/Poseidon2.sol (see package
// poseidon2gen).
//
//	go run ./settlement/internal/poseidon2gen/solgen -out settlement/contracts/Poseidon2.sol
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/veloxlabs/velox/settlement/internal/poseidon2gen"
)

func main() {
	out := flag.String("out", "settlement/contracts/Poseidon2.sol", "output Solidity file")
	flag.Parse()
	src, err := poseidon2gen.Solidity()
	if err == nil {
		err = os.WriteFile(*out, []byte(src), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "solgen:", err)
		os.Exit(1)
	}
}
