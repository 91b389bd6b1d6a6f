# Velox — a thin wrapper over the go tool. `make test` and `make run` are
# all a fresh machine needs; they install what they use.

GO          ?= go
GOFLAGS     ?=
TEST_FLAGS  ?= -timeout 30m
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build run test test-race bench lint generate tools contracts

all: build

build:
	$(GO) build -o bin/velox ./cmd/velox

# The node on its embedded defaults: state in ./velox-data, JSON-RPC on
# 127.0.0.1:9545, the embedded development L1 with its JSON-RPC on
# 127.0.0.1:8545 (for `velox wallet deposit` and standard Ethereum tools).
run: build
	./bin/velox node --l1.http

# The whole suite, then the race detector on the concurrent packages.
test:
	$(GO) test $(TEST_FLAGS) ./...
	$(MAKE) test-race

# The race detector on the parallel executor, the state store and the RPC
# front end's connection handling (the whole node package races clean too,
# in about 6 minutes: go test -race ./node/).
test-race:
	$(GO) test -race -timeout 15m ./executor/ ./state/
	$(GO) test -race -timeout 10m -run 'TestFront|FuzzFrontRequest' ./node/

# Every benchmark suite, one table. `velox bench SUITE --quick --json` runs one.
bench:
	$(GO) run ./cmd/velox bench all

lint:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

generate:
	$(GO) generate ./...

# Compiles the L1 contracts with the solc pinned in settlement/contracts
# (npm) and regenerates their checked-in artifacts and Go bindings (abigen v2).
contracts:
	npm ci --prefix settlement/contracts --no-audit --no-fund
	$(GO) generate ./settlement
	node settlement/contracts/compile.js --out settlement/contracts/build settlement/contracts/Rollup.sol
	$(GO) run ./settlement/internal/contractgen/bindgen -build settlement/contracts/build -out settlement/bindings/rollup.go
