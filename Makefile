# reachaudit — the two set-up commands are `make demo` and `make test`.
GO      ?= go
BIN     := bin/reachaudit
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
# Packages whose tests exercise concurrency run under the race detector in CI.
RACE_PKGS := ./agent/... ./reports/... ./providers/... ./cmd/...

.PHONY: all build demo test bench lint fmt clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/reachaudit

demo: build
	./$(BIN) demo

# make test: every package; in CI (CI=true) the concurrent packages run with
# -race, and tests that need external tools fail instead of skipping when
# REACHAUDIT_REQUIRE_EXTERNAL=1.
test: build
ifeq ($(CI),true)
	$(GO) test -count=1 -timeout 12m -race $(RACE_PKGS)
	$(GO) test -count=1 -timeout 12m ./deploy/...
else
	$(GO) test -count=1 -timeout 12m ./...
endif

bench: build
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./cmd/reachaudit/ ./reports/

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
