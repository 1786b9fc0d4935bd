# reachaudit — the two set-up commands are `make demo` and `make test`.
GO      ?= go
BIN     := bin/reachaudit
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
# Packages whose tests exercise concurrency run under the race detector in CI.
RACE_PKGS := ./agent/... ./reports/... ./providers/... ./cmd/...

# Packages with fuzz targets (go test -list '^Fuzz' finds them in each).
FUZZ_PKGS := ./providers ./agent/config ./agent/risk ./agent/schedule ./providers/sandbox \
	./providers/alibaba ./reports ./reports/spool ./reports/outputs ./internal/yamlfile
FUZZTIME ?= 30s

.PHONY: all build demo test bench lint fmt clean fuzz

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/reachaudit

demo: build
	./$(BIN) demo

# make test: every package; in CI (CI=true) the concurrent packages run with
# -race, and tests that need external tools fail instead of skipping when
# REACHAUDIT_REQUIRE_EXTERNAL=1. At the end it lists the tests it skipped
# for a missing tool, by tool.
ifeq ($(CI),true)
TEST_CMDS := $(GO) test -count=1 -timeout 12m -race $(RACE_PKGS) && \
	$(GO) test -count=1 -timeout 12m ./deploy/... ./internal/...
else
TEST_CMDS := $(GO) test -count=1 -timeout 12m ./...
endif

test: build
	@skips=$$(mktemp); trap 'rm -f "$$skips"' EXIT; \
	REACHAUDIT_SKIP_LOG="$$skips" sh -c '$(TEST_CMDS)'; rc=$$?; \
	if [ -s "$$skips" ]; then \
	  echo "skipped, for want of an outside tool (install it, or set REACHAUDIT_REQUIRE_EXTERNAL=1 to fail instead):"; \
	  sort "$$skips" | awk -F '\t' '{n[$$1]++; if (!($$1 in t)) t[$$1]=$$2; else if (n[$$1] <= 3) t[$$1]=t[$$1] ", " $$2} \
	    END {for (k in n) printf "  %-28s %3d test(s): %s%s\n", k, n[k], t[k], (n[k] > 3 ? ", …" : "")}' | sort; \
	else echo "no test was skipped for a missing tool"; fi; \
	exit $$rc

# make fuzz: every fuzz target for FUZZTIME each (the seed corpus under each
# package's testdata/fuzz runs in every make test too). A crasher is written
# to testdata/fuzz/<target>/ and fails the run.
fuzz:
	@set -e; for pkg in $(FUZZ_PKGS); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$t for $(FUZZTIME)"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -parallel 1 $$pkg; \
	  done; \
	done

bench: build
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./cmd/reachaudit/ ./reports/

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
