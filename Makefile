# baton: see README.md. Long recipes live in scripts/.
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BIN       ?= bin
FUZZTIME  ?= 20s
LDFLAGS   := -buildid= -s -w -X main.version=$(VERSION)
# Static, reproducible binaries; tests turn cgo back on for the race detector.
GOBUILD   := CGO_ENABLED=0 $(GO) build -trimpath -ldflags="$(LDFLAGS)"

export GO BIN VERSION FUZZTIME

.PHONY: build test lint bench demo fuzz clean

build:
	$(GOBUILD) -o $(BIN)/baton ./helper/cmd/baton
	$(GOBUILD) -o $(BIN)/circleci-sim ./helper/cmd/circleci-sim

test:
	scripts/test.sh

lint:
	scripts/lint.sh

bench: build
	$(GO) run ./helper/cmd/baton-bench --baton $(BIN)/baton

demo: build
	scripts/demo.sh

fuzz:
	scripts/fuzz.sh

clean:
	rm -rf $(BIN) dist .cache
