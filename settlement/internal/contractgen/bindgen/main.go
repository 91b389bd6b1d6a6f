// Command bindgen writes the Go bindings of the compiled settlement
// contracts (see package contractgen).
//
//	go run ./settlement/internal/contractgen/bindgen -build settlement/contracts/build -out settlement/bindings/rollup.go
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/veloxlabs/velox/settlement/internal/contractgen"
)

func main() {
	build := flag.String("build", "settlement/contracts/build", "directory of the compiled <Name>.abi and <Name>.bin")
	out := flag.String("out", "settlement/bindings/rollup.go", "output Go file")
	flag.Parse()
	code, err := contractgen.Bindings(*build)
	if err == nil {
		err = os.WriteFile(*out, []byte(code), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bindgen:", err)
		os.Exit(1)
	}
}
