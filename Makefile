# edocgw — see README.md. Every target works from a fresh clone with only Go installed,
# except lint (installs staticcheck through the Go module proxy).
GO ?= go
STATICCHECK_VERSION ?= v0.8.2
FUZZTIME ?= 10s
DATA ?= ./edocgw-data

.PHONY: run build test lint fuzz fuzz-ci bench testdata screenshots

run:
	$(GO) run ./cmd/edocgw serve --data $(DATA)

build:
	$(GO) build -o bin/edocgw ./cmd/edocgw

test:
	$(GO) test -race -count=1 ./...

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	@command -v staticcheck >/dev/null 2>&1 || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" staticcheck ./...

# Every native fuzz target, FUZZTIME each (go test allows one -fuzz target per run).
# Go 1.26's fuzz coordinator can report "context deadline exceeded" when -fuzztime ends
# while a worker is mid-input (go.dev/issue/75804, fixed in Go 1.27): that run failed
# without a failing input, so it is reported and not counted. Any failing input fails.
fuzz:
	@set -e; log=$$(mktemp); trap 'rm -f $$log' EXIT; \
	for f in $$(grep -rl --include='*_test.go' '^func Fuzz' .); do \
	  pkg=./$$(dirname $$f); \
	  for t in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | sed 's/func //'); do \
	    echo "fuzz $$pkg $$t ($(FUZZTIME))"; \
	    if $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg >$$log 2>&1; then cat $$log; \
	    else cat $$log; \
	      if grep -q 'context deadline exceeded' $$log && ! grep -q 'Failing input written' $$log; then \
	        echo "fuzz $$t: stopped by the fuzztime deadline race of Go 1.26 (go.dev/issue/75804), no failing input"; \
	      else exit 1; fi; \
	    fi; \
	  done; \
	done

# Go benchmarks of every package (the pipeline's stages: routing.BenchmarkStage*,
# routing.BenchmarkAccept, signing.BenchmarkLimit), then the gateway end to end on the
# backend EDOCGW_DATABASE_URL / EDOCGW_ARCHIVE_URL name (default: embedded).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./cmd/edocgw bench --in-process --duration 20s --concurrency 96 --agencies 40 --pullers 40 --mix 10KB=1 --spool-dir /dev/shm
	$(GO) run ./cmd/edocgw bench --in-process --duration 20s --rate 1000 --concurrency 256 --agencies 40 --pullers 40 --mix 10KB=1 --fetch page --ack page --spool-dir /dev/shm

# Regenerates the large test directory (not checked in; tests generate it in memory).
testdata:
	$(GO) run ./testdata/agencies/gen -n 120000 -seed 1 -format csv -o testdata/agencies/national-120k.csv

# Screenshots of the web console (docs/screenshots/*.png), taken by the browser test in headless Chromium.
screenshots:
	EDOCGW_SCREENSHOTS=1 $(GO) test -count=1 -run '^TestUIBrowser$$' ./cmd/edocgw
