# iotauthz: build, test, bench, run. See README.md.
GO        ?= go
WASM      := dist/iotauthz.wasm
WASMFLAGS := GOOS=wasip1 GOARCH=wasm
IMPORTS   := ../shared/tools/wasm-imports
BENCHSTAT := $(GO) run golang.org/x/perf/cmd/benchstat@v0.0.0-20251208221838-04cf7a2dca90

.PHONY: all build test check format vet tidy-check bench run e2e-compose fuzz clean deps oci push-oci

all: build

## build: compile the plugin to dist/iotauthz.wasm (standard Go, wasip1, c-shared)
build:
	@mkdir -p dist
	$(WASMFLAGS) $(GO) build -trimpath -ldflags="-s -w" -buildmode=c-shared -o $(WASM) ./plugin
	@if [ -x $(IMPORTS) ]; then $(IMPORTS) $(WASM) --quiet; fi

## oci: the plugin as an OCI image (Wasm "compat" variant) in the OCI layout dist/oci; prints its digest
oci: build
	@rm -rf dist/oci
	$(GO) run ./cmd/iotauthz oci layout $(WASM) dist/oci

## push-oci: push that image, REGISTRY=registry.example.com/iotauthz:TAG (docker login credentials); prints the digest to pin
push-oci: build
	@if [ -z "$(REGISTRY)" ]; then echo "usage: make push-oci REGISTRY=registry.example.com/iotauthz:TAG"; exit 2; fi
	$(GO) run ./cmd/iotauthz oci push $(WASM) $(REGISTRY)

## check: formatting, vet (native and wasm), and go mod tidy leaving no diff
check: format-check vet tidy-check

format-check:
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

format:
	gofmt -w $$(git ls-files '*.go')

vet:
	$(GO) vet ./...
	$(WASMFLAGS) $(GO) vet ./plugin/...

tidy-check:
	@cp go.mod /tmp/iotauthz-go.mod.bak; cp go.sum /tmp/iotauthz-go.sum.bak
	@$(GO) mod tidy
	@if ! cmp -s go.mod /tmp/iotauthz-go.mod.bak || ! cmp -s go.sum /tmp/iotauthz-go.sum.bak; then \
		echo "go mod tidy changed go.mod/go.sum; commit the tidy result"; \
		cp /tmp/iotauthz-go.mod.bak go.mod; cp /tmp/iotauthz-go.sum.bak go.sum; exit 1; fi

## deps: the Debian packages the e2e tests and the V8 bench host use (mosquitto, mosquitto-clients, openssl, curl, nodejs)
deps:
	@./.ci/deps

## test: everything (check, build, unit, host conformance under -race, plugin through the .wasm, e2e)
test: deps check build
	$(GO) test -count=1 -timeout 20m ./...
	$(GO) test -count=1 -race -timeout 20m ./host/...

## bench: every benchmark, 6 runs each (wazero, native, and V8 through bench/v8 in node), into BENCHMARKS.md
bench: build
	./scripts/bench.sh

## fuzz: run each fuzz target for FUZZTIME (default 30s)
FUZZTIME ?= 30s
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

## run: the demo (authorizer, embedded broker, gateway) with copy-paste commands
run: build
	$(GO) run ./cmd/iotauthz demo --wasm $(WASM)

## e2e-compose: the docker compose stack with Envoy (needs a Docker engine)
e2e-compose: build
	docker compose -f e2e/docker-compose.yaml up --build --abort-on-container-exit --exit-code-from tester

clean:
	rm -rf dist
