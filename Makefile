# cdp — a warehouse-native customer data platform.
# make demo: the retail example on embedded DuckDB.  make test: every test.

GO        ?= go
BIN       := bin/cdp
EXAMPLE   := examples/retail
AS_OF     := 2026-11-01T00:00:00Z
CDP       := $(BIN) --project $(EXAMPLE) --as-of $(AS_OF)

.PHONY: all build demo test test-short vet fuzz golden seeds clean emulator

# The BigQuery emulator the tests run against, built once from the pinned
# tool module (about five minutes and a few GB of memory the first time).
EMULATOR  := .cache/bin/bigquery-emulator

all: build

build:
	$(GO) build -o $(BIN) ./cmd/cdp

## demo: the retail example end to end on embedded DuckDB: models, profiles, segments, syncs.
demo:
	./scripts/demo.sh

## test: vet, unit, golden and integration tests (DuckDB in-process, PostgreSQL and the BigQuery emulator started by the harnesses).
test: vet $(EMULATOR)
	$(GO) test -count=1 -timeout 25m ./...

test-short:
	$(GO) test -short ./...

vet:
	$(GO) vet ./...

## fuzz: run the fuzz targets for a while each.
fuzz:
	$(GO) test ./models -run '^$$' -fuzz FuzzLoad -fuzztime 60s

## golden: rewrite the compiled-SQL golden files after an intended change.
golden:
	$(GO) test ./compiler/... -run Golden -update

## seeds: regenerate the example's seed CSVs from the deterministic generator.
seeds:
	$(GO) run ./$(EXAMPLE)/gen -out $(EXAMPLE)/seeds

## emulator: build the BigQuery emulator into .cache/bin when missing.
emulator: $(EMULATOR)

$(EMULATOR): tools/bigquery-emulator/go.mod tools/bigquery-emulator/go.sum
	mkdir -p $(dir $@)
	cd tools/bigquery-emulator && $(GO) build -o ../../$@.tmp github.com/goccy/bigquery-emulator/cmd/bigquery-emulator
	mv $@.tmp $@

clean:
	rm -rf bin .demo $(EXAMPLE)/.cdp
