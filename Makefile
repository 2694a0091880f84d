# SmartPath kiosk — build, test, benchmark and demo.
# `make test` and `make demo` install the Debian packages they need on first use (make deps).

GO        ?= go
BIN       := bin
BENCH_OUT ?= bench/results.txt
# Integration tests run inside a private mount+network namespace with their own pcscd,
# so they never touch a pcscd (or ports) the machine already has.
ISOLATED  := testing/scripts/isolated.sh

.PHONY: all deps build build-windows test test-unit test-integration fuzz bench demo clean

all: build

deps:
	@testing/scripts/deps.sh

build: deps
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./cmd/...

# The Windows binaries: the agent (winscard through syscalls, no cgo) and the WebView2
# shell cross-built with mingw-w64.
build-windows: deps
	@mkdir -p $(BIN)/windows
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) build -o $(BIN)/windows/kiosk-agent.exe ./cmd/kiosk-agent
	kiosk-ui/shell_mingw/build-windows.sh $(BIN)/windows/kiosk-ui.exe

test: deps
	@gofmt -l . | (! grep .) || { echo "gofmt would change the files above: run gofmt -w"; exit 1; }
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	$(MAKE) --no-print-directory build-windows
	$(MAKE) --no-print-directory test-unit
	$(MAKE) --no-print-directory test-integration
	$(MAKE) --no-print-directory fuzz

test-unit:
	$(GO) test -count=1 -timeout 5m ./...

# Packages with integration tests carry the `integration` build tag.
test-integration:
	$(ISOLATED) $(GO) test -count=1 -timeout 10m -tags integration -p 1 ./...

# A short run of every fuzz target (FUZZTIME each). A count, not a duration: Go 1.26's fuzz
# coordinator can fail a duration-bounded run with "context deadline exceeded" at the end of
# -fuzztime when the machine is busy (go.dev/issue/75804); a count has no such deadline.
FUZZTIME ?= 20000x
fuzz:
	@testing/scripts/fuzz.sh $(FUZZTIME)

# Every benchmark in the repo, with the integration tag, in one private pcscd namespace, into
# $(BENCH_OUT) (see bench/README.md and docs/benchmarks.md). Package benchmarks run at the
# default -benchtime. The end-to-end ones in ./agent, where one op is a whole citizen visit
# through pcscd (about a second), run a fixed number of ops: BENCH_E2E, and BENCH_REMOVALS
# for the card-removal percentiles. BenchmarkAgentProcess runs the kiosk-agent built here.
BENCH_E2E      ?= 3x
BENCH_REMOVALS ?= 20x
# The commit the results are from; "-dirty" when the work tree has changes of its own.
BENCH_COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
BENCH_FLAGS    := -run=^$$ -benchmem -tags integration -p 1 -count=1 -timeout 20m
bench: deps
	@mkdir -p $(dir $(BENCH_OUT)) $(BIN)
	$(GO) build -o $(BIN)/ ./cmd/kiosk-agent
	@echo "# make bench $$(date -u +%Y-%m-%dT%H:%M:%SZ) commit $(BENCH_COMMIT) $$($(GO) version | cut -d' ' -f3) $$(nproc) CPUs, load average $$(cut -d' ' -f1-3 /proc/loadavg)" > $(BENCH_OUT).tmp
	SMARTPATH_AGENT_BIN=$(CURDIR)/$(BIN)/kiosk-agent $(ISOLATED) bash -o pipefail -c 'rc=0; \
	  $(GO) test $(BENCH_FLAGS) -bench . $$($(GO) list ./... | grep -vx smartpath/agent) 2>&1 | tee -a $(BENCH_OUT).tmp || rc=1; \
	  $(GO) test $(BENCH_FLAGS) -bench . -skip CardRemovalToWiped -benchtime $(BENCH_E2E) ./agent 2>&1 | tee -a $(BENCH_OUT).tmp || rc=1; \
	  $(GO) test $(BENCH_FLAGS) -bench CardRemovalToWiped -benchtime $(BENCH_REMOVALS) ./agent 2>&1 | tee -a $(BENCH_OUT).tmp || rc=1; \
	  exit $$rc'; rc=$$?; grep -v '^{' $(BENCH_OUT).tmp > $(BENCH_OUT); rm -f $(BENCH_OUT).tmp; exit $$rc
	@echo "benchmark results written to $(BENCH_OUT)"

demo: deps build
	@testing/scripts/demo.sh

clean:
	rm -rf $(BIN)
