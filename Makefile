# jjsql build. The mattn/go-sqlite3 virtual-table API needs the sqlite_vtable
# build tag: every target passes it.
GO      ?= go
TAGS    := sqlite_vtable
BIN     := bin/jjsql
PKGS    := ./...
FUZZTIME ?= 20s

.PHONY: all build demo test vet fmtcheck depcheck bench fuzz generate schema conformance clean

all: build

build:
	$(GO) build -tags $(TAGS) -o $(BIN) ./cmd/jjsql

# Runs a query on the sample capture our own generator writes (testdata/sample.pcap).
demo: build
	@echo '$$ jjsql "SELECT src_ip, src_port, dst_ip, dst_port, protocol, total_packets, total_bytes, round(duration,3) AS duration FROM flows('"'"'testdata/sample.pcap'"'"') ORDER BY total_bytes DESC LIMIT 12"'
	@./$(BIN) --format table "SELECT src_ip, src_port, dst_ip, dst_port, protocol, total_packets, total_bytes, round(duration,3) AS duration FROM flows('testdata/sample.pcap') ORDER BY total_bytes DESC LIMIT 12"
	@echo '$$ jjsql "SELECT protocol, count(*) AS flows, sum(total_packets) AS packets FROM flows('"'"'testdata/sample.pcap'"'"') GROUP BY 1"'
	@./$(BIN) --format table "SELECT protocol, count(*) AS flows, sum(total_packets) AS packets FROM flows('testdata/sample.pcap') GROUP BY 1"
	@echo '$$ jjsql "SELECT dst_port, tls_sni, ja3, ja4, ssh_hassh, dns_query_name FROM flows('"'"'testdata/sample.pcap'"'"') WHERE tls_detected OR ssh_detected OR dns_detected"'
	@./$(BIN) --format table "SELECT dst_port, tls_sni, ja3, ja4, ssh_hassh, dns_query_name FROM flows('testdata/sample.pcap') WHERE tls_detected OR ssh_detected OR dns_detected"
	@echo '$$ jjsql "SELECT src_ip, dst_ip, dst_port, traffic_type, round(tor_confidence, 2) AS tor, vpn_type, likely_doh, round(entropy_payload, 2) AS entropy, conn_src_unique_dsts AS peers FROM flows('"'"'testdata/sample.pcap'"'"') WHERE traffic_type <> '"'"'encrypted'"'"'"'
	@./$(BIN) --format table "SELECT src_ip, dst_ip, dst_port, traffic_type, round(tor_confidence, 2) AS tor, vpn_type, likely_doh, round(entropy_payload, 2) AS entropy, conn_src_unique_dsts AS peers FROM flows('testdata/sample.pcap') WHERE traffic_type <> 'encrypted'"

test: vet fmtcheck depcheck
	$(GO) test -race -tags $(TAGS) -count=1 $(PKGS)

vet:
	$(GO) vet -tags $(TAGS) $(PKGS)

fmtcheck:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Imports point down: cmd -> repl/vtab/functions -> extractors -> flows; schema is a leaf.
depcheck:
	@$(GO) run ./tools/depcheck

# Go benchmarks of the hot path (per frame in flows/, on the bench traffic mix in
# internal/testgen), then whole jjsql runs on testdata/bench/synthetic.pcap (written
# by bench-capture when missing) and the corpus replay (scripts/bench.sh).
# bench-doc writes the measured tables into docs/PERFORMANCE.md.
.PHONY: bench-go bench-capture bench-doc
bench: bench-go build
	./scripts/bench.sh --jjsql $(BIN)

bench-go:
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchmem ./flows/ ./extractors/ ./vtab/... ./internal/testgen/

# 1 GB, 2.5M packets, 60k flows; deterministic (same bytes every run), about 30 s.
bench-capture:
	$(GO) run ./tools/genbench -o testdata/bench/synthetic.pcap

bench-doc: build
	./scripts/bench.sh --jjsql $(BIN) --write-doc

# Every fuzz target (capture reader, decoder, protocol parsers), FUZZTIME each.
fuzz:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

# Regenerates the sample captures under testdata/ (deterministic).
generate:
	$(GO) run ./tools/gentestdata

# Regenerates schema/features_gen.go from JoyfulJay's feature list (needs ../shared).
schema:
	cd schema && $(GO) run ../tools/genschema -spec ../../shared/spec/features.tsv -docs definitions.tsv -out features_gen.go

conformance: build
	python3 ../shared/tools/conformance.py --jjsql ./$(BIN)

clean:
	rm -rf bin

# --- Loadable SQLite extension (issue 5 part 2; docs/EXTENSION.md) ---------
# bin/jjsql.so: flows(), packets() and the SQL functions for any sqlite3 3.10+
#   sqlite3 :memory: '.load ./bin/jjsql' "SELECT count(*) FROM flows('x.pcap')"
# Needs sqlite3ext.h (Debian: libsqlite3-dev); no build tag, no mattn.
EXT := bin/jjsql.so

.PHONY: ext
ext:
	$(GO) build -buildmode=c-shared -o $(EXT) ./cmd/jjsqlext
	@rm -f $(EXT:.so=.h)

# --- Interactive shell (docs/REPL.md) ---
.PHONY: repl
# Opens the shell on this build; try: SELECT * FROM flows('testdata/sample.pcap') LIMIT 3;
repl: build
	./$(BIN) repl

# ---- DuckDB and Parquet (vtab/duckdb, export) ----
# The DuckDB packages link a 70 MB static library; their tests are part of
# `make test`. These targets run only them, and time the exports.
.PHONY: test-duckdb bench-duckdb

test-duckdb:
	$(GO) test -race -tags $(TAGS) -count=1 ./vtab/duckdb/ ./export/ ./cmd/jjsql/

# Times SELECT * FROM flows() exported to Parquet, DuckDB and CSV by each
# route (needs testdata/bench/corpus-replay.pcap: make bench builds it).
bench-duckdb: build
	./scripts/bench-duckdb.sh $(BIN) $(BENCH_PCAP)
