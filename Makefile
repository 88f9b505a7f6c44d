# Developer shortcuts. The test command stays `go test ./...`; these
# targets only wrap it and the benchmarks. docs/benchmarks.md explains
# each measurement.

BENCHSTAT := go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
BENCH_COUNT ?= 6
BENCH_OUT ?= bench/results
# Per-item benchmarks: normalise, parsing a document, parsing a changed
# document with and without the parse memo, dedup (Ingest of new and
# known items), publish, the heap per KV key and the gunzip of a fetched
# document, with ns/op, B/op and allocs/op.
BENCH_PKGS ?= ./pipeline ./internal/broker ./workers
BENCH_RE ?= BenchmarkNormaliseItem|BenchmarkContentHash|BenchmarkHashThenFingerprint|BenchmarkParseFeed|BenchmarkParseChangedDocument|BenchmarkIngest|BenchmarkPublish|BenchmarkIndexRepair|BenchmarkStreamStore|BenchmarkKVKeyHeap|BenchmarkGunzip

# End-to-end sizes: 2,000 feeds x 50 items, the changed round slides 5.
FEEDS ?= 2000
ITEMS ?= 50
RUNS ?= 5
CACHE ?= embedded
SYNC_ALWAYS ?= true
FARM_CONTROL ?= 127.0.0.1:7070
# PROFILE, when set, is the file bench-e2e writes a CPU profile of all
# runs to (read it with go tool pprof). With PROFILE_ROUND set to cold,
# repoll or changed, only that round is profiled, in one file per run:
# $(PROFILE).1, $(PROFILE).2 and so on.
PROFILE ?=
PROFILE_ROUND ?=
# STAGES=false skips the stage costs after the bench-e2e runs.
STAGES ?= true

.PHONY: test bench bench-e2e bench-serve

# FARM_FREE stops a harness when another farm already answers on
# FARM_CONTROL, which the harness would otherwise poll in place of its
# own. FARM_UP stops it when its own farm exited, as on a bind failure.
FARM_FREE = @! curl -sf http://$(FARM_CONTROL)/stats >/dev/null || \
	{ echo "a feed farm already answers on $(FARM_CONTROL); stop it or set FARM_CONTROL to a free address" >&2; exit 1; }
FARM_UP = kill -0 $$farm 2>/dev/null || \
	{ echo "feedfarm did not start on $(FARM_CONTROL); set FARM_CONTROL to a free address" >&2; exit 1; };

test:
	go test ./...

BENCH_TIME ?= 1s

# bench writes $(BENCH_OUT)/new.txt and, when $(BENCH_OUT)/old.txt exists
# (a copy of an earlier new.txt), prints the comparison.
bench:
	mkdir -p $(BENCH_OUT)
	go test $(BENCH_PKGS) -run '^$$' -bench '$(BENCH_RE)' -benchmem -benchtime $(BENCH_TIME) -count $(BENCH_COUNT) \
		> $(BENCH_OUT)/new.txt || { cat $(BENCH_OUT)/new.txt; exit 1; }
	cat $(BENCH_OUT)/new.txt
	if [ -f $(BENCH_OUT)/old.txt ]; then $(BENCHSTAT) $(BENCH_OUT)/old.txt $(BENCH_OUT)/new.txt; else $(BENCHSTAT) $(BENCH_OUT)/new.txt; fi

# bench-e2e and bench-serve are also in .ci/run at toy size (FEEDS=20).
# bench-e2e starts a feed farm in its own process, so its CPU time stays
# out of the figures, runs the ingest harness against it and stops it.
bench-e2e:
	mkdir -p $(BENCH_OUT)
	go build -o $(BENCH_OUT)/feedfarm ./cmd/feedfarm
	go build -o $(BENCH_OUT)/syndicbench ./cmd/syndicbench
	$(FARM_FREE)
	$(BENCH_OUT)/feedfarm -feeds $(FEEDS) -items $(ITEMS) -control $(FARM_CONTROL) & farm=$$!; \
	trap 'kill $$farm' EXIT; \
	for i in $$(seq 50); do curl -sf http://$(FARM_CONTROL)/stats >/dev/null && break; sleep 0.2; done; \
	$(FARM_UP) \
	$(BENCH_OUT)/syndicbench -farm http://$(FARM_CONTROL) -items $(ITEMS) -runs $(RUNS) \
		-cache $(CACHE) -sync-always=$(SYNC_ALWAYS) -stages=$(STAGES) $(if $(PROFILE),-cpuprofile $(PROFILE)) \
		$(if $(PROFILE_ROUND),-cpuprofile-round $(PROFILE_ROUND))

# bench-serve runs `syndic run` as a process on a farm of SERVE_FEEDS
# feeds: RSS once every item arrived, merged-feed requests against a
# static file server, and the time to /readyz after a restart.
SERVE_FEEDS ?= 200
LOAD_DURATION ?= 10s
bench-serve:
	mkdir -p $(BENCH_OUT)
	go build -o $(BENCH_OUT)/feedfarm ./cmd/feedfarm
	go build -o $(BENCH_OUT)/syndicbench ./cmd/syndicbench
	go build -o $(BENCH_OUT)/syndic ./cmd/syndic
	$(FARM_FREE)
	$(BENCH_OUT)/feedfarm -feeds $(SERVE_FEEDS) -items $(ITEMS) -control $(FARM_CONTROL) & farm=$$!; \
	trap 'kill $$farm' EXIT; \
	for i in $$(seq 50); do curl -sf http://$(FARM_CONTROL)/stats >/dev/null && break; sleep 0.2; done; \
	$(FARM_UP) \
	$(BENCH_OUT)/syndicbench -mode serve -syndic $(BENCH_OUT)/syndic -farm http://$(FARM_CONTROL) \
		-items $(ITEMS) -runs $(RUNS) -cache $(CACHE) -sync-always=$(SYNC_ALWAYS) -duration $(LOAD_DURATION)
