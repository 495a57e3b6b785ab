# bulkreset — the targets CI and people use.
GO       ?= go
BIN      := bin/bulkreset
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
PLATFORMS := linux/amd64 linux/arm64 windows/amd64 darwin/arm64
# sha256sum (GNU coreutils) or, on macOS, shasum: both write "hash  name".
SHA256SUM ?= $(shell command -v sha256sum >/dev/null 2>&1 && echo sha256sum || echo shasum -a 256)

.PHONY: all build test demo bench lint fuzz release clean

all: build

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/bulkreset

# vet, then every test with the race detector.
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

# The main job against the built-in sandbox tenant: no credentials, no network.
# The demo input has failing and invalid rows on purpose, so exit code 3 is expected.
demo: build
	@rm -rf demo-out && mkdir -p demo-out
	$(BIN) reset --sandbox -i testdata/demo.csv -o demo-out/results.csv --secrets demo-out/secrets.csv --yes; \
	  rc=$$?; if [ $$rc -ne 0 ] && [ $$rc -ne 3 ]; then exit $$rc; fi
	@echo; echo "== demo-out/results.csv (one row per input row)"; cat demo-out/results.csv
	@echo; echo "== demo-out/secrets.csv: mode $$(stat -c %a demo-out/secrets.csv 2>/dev/null || stat -f %Lp demo-out/secrets.csv), $$(($$(wc -l < demo-out/secrets.csv) - 1)) passwords (not shown)"

# Figures, not tests: wall time and throughput against the emulator.
bench: build
	$(GO) run ./cmd/bench -bin $(BIN)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	# go.mod and go.sum list exactly what the code imports.
	$(GO) mod tidy -diff
	# Code this machine does not run (the Windows ACL and lock) must compile too.
	GOOS=windows $(GO) vet ./...
	GOOS=windows $(GO) build ./...

# Short fuzzing of every parser; FUZZTIME=5m for a longer run.
FUZZTIME ?= 20s
fuzz:
	$(GO) test ./pkg/csvin -run '^$$' -fuzz FuzzReader -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/csvin -run '^$$' -fuzz FuzzWorkbookSheet -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/graph -run '^$$' -fuzz FuzzParseRetryAfter -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/graph -run '^$$' -fuzz FuzzUserPath -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/password -run '^$$' -fuzz FuzzCheck -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/graph -run '^$$' -fuzz FuzzDecodeBatchItems -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/graph -run '^$$' -fuzz FuzzCountKeys -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/report -run '^$$' -fuzz FuzzReadResults -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/report -run '^$$' -fuzz FuzzVisible -fuzztime $(FUZZTIME)

# Static binaries for every platform, version stamped, with checksums; then
# checked: format and architecture, static linking, the stamped version (the
# host's binary is run), and SHA256SUMS against the files.
# VERSION=v1.2.0 make release, or a tag: git describe names the version.
release:
	@rm -rf dist && mkdir -p dist
	@set -e; for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
	  out=dist/bulkreset-$(VERSION)-$$os-$$arch$$ext; \
	  echo "building $$out"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $$out ./cmd/bulkreset; \
	done
	cd dist && $(SHA256SUM) bulkreset-* > SHA256SUMS && cat SHA256SUMS
	$(GO) run ./scripts/checkrelease -dir dist -version $(VERSION)

clean:
	rm -rf bin dist demo-out
