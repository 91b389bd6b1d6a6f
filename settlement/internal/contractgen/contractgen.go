// Package contractgen turns the compiled contract artifacts of
// settlement/contracts/build into Go bindings with go-ethereum's abigen v2
// generator. `make contracts` runs it through its bindgen command, and a
// settlement test runs it again to check that the checked-in bindings are
// current.
package contractgen

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi/abigen"
)

// Contracts are the contracts with checked-in bindings, in output order.
var Contracts = []string{"Rollup"}

// Package is the Go package of the bindings.
const Package = "bindings"

// Bindings returns the Go source of the bindings of Contracts, read from
// buildDir's <Name>.abi and <Name>.bin.
func Bindings(buildDir string) (string, error) {
	var abis, bins []string
	for _, name := range Contracts {
		a, err := os.ReadFile(filepath.Join(buildDir, name+".abi"))
		if err != nil {
			return "", fmt.Errorf("contractgen: %w", err)
		}
		b, err := os.ReadFile(filepath.Join(buildDir, name+".bin"))
		if err != nil {
			return "", fmt.Errorf("contractgen: %w", err)
		}
		abis = append(abis, strings.TrimSpace(string(a)))
		bins = append(bins, strings.TrimSpace(string(b)))
	}
	code, err := abigen.BindV2(Contracts, abis, bins, Package, nil, nil)
	if err != nil {
		return "", fmt.Errorf("contractgen: %w", err)
	}
	return code, nil
}
