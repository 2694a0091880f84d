# SmartPath kiosk — build, test, benchmark and demo.
# `make test` and `make demo` install the Debian packages they need on first use (make deps).

GO        ?= go
BIN       := bin
BENCH_OUT ?= bench/results.txt
# Integration tests run inside a private mount+network namespace with their own pcscd,
# so they never touch a pcscd (or ports) the machine already has.
ISOLATED  := testing/scripts/isolated.sh

.PHONY: all deps build test test-unit test-integration fuzz bench demo clean

all: build

deps:
	@testing/scripts/deps.sh

build: deps
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./cmd/...

test: deps
	$(GO) vet ./...
	$(MAKE) --no-print-directory test-unit
	$(MAKE) --no-print-directory test-integration
	$(MAKE) --no-print-directory fuzz

test-unit:
	$(GO) test -count=1 -timeout 5m ./...

# Packages with integration tests carry the `integration` build tag.
test-integration:
	$(ISOLATED) $(GO) test -count=1 -timeout 10m -tags integration -p 1 ./...

# A short run of every fuzz target (FUZZTIME each).
FUZZTIME ?= 5s
fuzz:
	@testing/scripts/fuzz.sh $(FUZZTIME)

bench: deps
	@mkdir -p $(dir $(BENCH_OUT))
	$(ISOLATED) $(GO) test -run '^$$' -bench . -benchmem -tags integration -p 1 ./... | tee $(BENCH_OUT)
	@echo "benchmark results written to $(BENCH_OUT)"

demo: deps build
	@testing/scripts/demo.sh

clean:
	rm -rf $(BIN)
