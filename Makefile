# cdp — a warehouse-native customer data platform.
# make demo: the retail example on embedded DuckDB.  make test: every test.

GO        ?= go
BIN       := bin/cdp
EXAMPLE   := examples/retail
AS_OF     := 2026-11-01T00:00:00Z
CDP       := $(BIN) --project $(EXAMPLE) --as-of $(AS_OF)

.PHONY: all build demo test test-short vet tools emulator fuzz golden seeds bench bench-10m phone-oracle clean

# The BigQuery emulator the tests run against, built once from the pinned
# tool module (about five minutes and a few GB of memory the first time).
EMULATOR  := .cache/bin/bigquery-emulator

all: build

build:
	$(GO) build -o $(BIN) ./cmd/cdp

## demo: the retail example end to end on embedded DuckDB: models, profiles, segments, syncs.
demo:
	./scripts/demo.sh

SQLCHECK  := tools/sqlcheck
SQLSTAMP  := $(SQLCHECK)/node_modules/.cdp-lock-sha256

## test: vet, unit, golden and integration tests (DuckDB in-process, PostgreSQL and the BigQuery
## emulator started by the harnesses, Snowflake and BigQuery SQL parsed by the tools/sqlcheck parsers).
test: vet tools $(EMULATOR)
	$(GO) test -count=1 -timeout 35m ./...

test-short:
	$(GO) test -short ./...

vet:
	$(GO) vet ./...

## tools: install the SQL parsers of tools/sqlcheck from its lockfile (npm ci) when missing or stale.
## Without npm it does nothing: the parser tests then skip (and fail with CI=true).
tools:
	@if ! command -v npm >/dev/null 2>&1; then echo "tools: npm not found; SQL parser checks will skip"; \
	elif [ "$$(cat $(SQLSTAMP) 2>/dev/null)" != "$$(sha256sum $(SQLCHECK)/package-lock.json | cut -d' ' -f1)" ]; then \
	  echo "tools: npm ci in $(SQLCHECK)"; \
	  (cd $(SQLCHECK) && npm ci --no-audit --no-fund --loglevel=error) && \
	  sha256sum $(SQLCHECK)/package-lock.json | cut -d' ' -f1 > $(SQLSTAMP); \
	fi

## fuzz: run the fuzz targets for a while each.
fuzz:
	$(GO) test ./models -run '^$$' -fuzz FuzzLoad -fuzztime 60s
	$(GO) test ./warehouse/snowflake -run '^$$' -fuzz FuzzQuoteString -fuzztime 30s
	$(GO) test ./warehouse/snowflake -run '^$$' -fuzz FuzzQuoteIdent -fuzztime 30s

## golden: rewrite the compiled-SQL golden files, the destination reference pages (docs/destinations)
## and the destination diagnostics goldens after an intended change.
golden:
	$(GO) test ./compiler/... -run Golden -update
	$(GO) test ./sync/destinations/all -update

## seeds: regenerate the example's seed CSVs from the deterministic generator.
seeds:
	$(GO) run ./$(EXAMPLE)/gen -out $(EXAMPLE)/seeds

## bench: the benchmark suite at default scales (under 30 min on 2 cores); rewrites docs/benchmarks.{md,json,svg}.
bench: build
	$(GO) build -o bin/cdpbench ./bench/cmd/cdpbench
	./bin/cdpbench -cdp $(BIN) -out docs $(BENCH_FLAGS)

## bench-10m: the benchmark suite with 10M people on DuckDB as well (hours, tens of GiB of disk).
bench-10m:
	$(MAKE) bench BENCH_FLAGS="-10m $(BENCH_FLAGS)"

## phone-oracle: the phone normalizer against libphonenumber over the full corpus on every engine,
## the BigQuery emulator included (make test gives the emulator the short corpus; about half an hour).
phone-oracle: $(EMULATOR)
	CDP_PHONE_FULL_CORPUS=1 $(GO) test -count=1 -v -timeout 90m -run TestCorpusMatchesLibphonenumber ./identity/phone/

## emulator: build the BigQuery emulator into .cache/bin when missing.
emulator: $(EMULATOR)

$(EMULATOR): tools/bigquery-emulator/go.mod tools/bigquery-emulator/go.sum
	mkdir -p $(dir $@)
	cd tools/bigquery-emulator && $(GO) build -o ../../$@.tmp github.com/goccy/bigquery-emulator/cmd/bigquery-emulator
	mv $@.tmp $@

clean:
	rm -rf bin .demo $(EXAMPLE)/.cdp $(SQLCHECK)/node_modules
