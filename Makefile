# baton: see README.md. Long recipes live in scripts/.
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BIN       ?= bin
FUZZTIME  ?= 20s
# The version release-dry-run and orb-pack build as; its major must be the examples' (@1.x).
RELEASE_VERSION ?= 1.0.0-dev
LDFLAGS   := -buildid= -s -w -X main.version=$(VERSION)
# net/http without its bundled HTTP/2: baton's few small requests gain nothing from it, and it
# costs 0.37 MiB of an 8 MiB size goal (helper/internal/devtools/README.md, "Benchmarks"). Releases build the same way.
TAGS      := nethttpomithttp2
# Static, reproducible binaries; tests turn cgo back on for the race detector. Inlining only
# where it pays (scripts/gcflags.sh says which, and what it saves).
GOFLAGS_BUILD := -trimpath -tags=$(TAGS) $(shell scripts/gcflags.sh)
GOBUILD   := CGO_ENABLED=0 $(GO) build $(GOFLAGS_BUILD) -ldflags="$(LDFLAGS)"

export GO BIN VERSION FUZZTIME

.PHONY: build test lint bench demo demo-cli demo-callback fuzz release-dry-run orb-pack clean

build:
	$(GOBUILD) -o $(BIN)/baton ./helper/cmd/baton
	$(GOBUILD) -o $(BIN)/circleci-sim ./helper/cmd/circleci-sim

test:
	scripts/test.sh

lint:
	scripts/lint.sh

bench: build
	$(GO) run ./helper/cmd/baton-bench --baton $(BIN)/baton

# Builds what it shows, for this machine only, every build with make build's settings: see
# scripts/demo.sh and README "Two commands".
demo:
	@CGO_ENABLED=0 GOFLAGS="$(GOFLAGS_BUILD) $(GOFLAGS)" LDFLAGS="$(LDFLAGS)" scripts/demo.sh

demo-cli: build
	scripts/demo-cli.sh

# The callback pattern in-process on a simulated clock, with the upstream job time
# against a waiting job's (orb/README.md, "The callback pattern").
demo-callback:
	$(GO) run ./helper/internal/devtools/democallback

fuzz:
	scripts/fuzz.sh

# dist/: the archives, SHA256SUMS and the packed orb pinning them, verified, last as a user
# checks a download; nothing is published. RELEASING.md says how a release is made.
release-dry-run:
	rm -rf dist
	scripts/build-release.sh $(RELEASE_VERSION) dist
	scripts/pack-orb.sh $(RELEASE_VERSION) dist
	$(GO) run ./helper/cmd/baton-release verify --version $(RELEASE_VERSION) --dist dist
	cd dist && sha256sum --strict -c SHA256SUMS

# dist/orb.yml again from orb/src, against the release already in dist/.
orb-pack:
	scripts/pack-orb.sh $(RELEASE_VERSION) dist

clean:
	rm -rf $(BIN) dist .cache
