# authx — see README.md. Every target works on a fresh machine with Go.
GO      ?= go
BIN     ?= bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
# The plugins, built beside authx so that it finds them. authx itself is two
# executables: the fast front (cmd/authx/front), installed as authx, and the
# full CLI (cmd/authx), installed as authx-cli beside it. The container
# tools' credential helper, docker-credential-authx, runs authx-cli.
PLUGINS := ./plugins/basic/cmd/authx-plugin-basic ./plugins/jwt/cmd/authx-plugin-jwt ./plugins/jenkins/cmd/authx-plugin-jenkins ./plugins/digest/cmd/authx-plugin-digest ./plugins/exec/cmd/authx-plugin-exec
GOBIN   ?= $(shell $(GO) env GOBIN)
ifeq ($(GOBIN),)
GOBIN   := $(shell $(GO) env GOPATH)/bin
endif
TOOLS   := $(CURDIR)/.tools
PROTOC_GEN_GO_VERSION      := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2
PROTO   := core/proto/authx/plugin/v1/plugin.proto

.PHONY: build install test fuzz examples demo bench bench-download generate generate-check clean

# Static executables (CGO_ENABLED=0: Go's own DNS resolver and user lookup):
# a cgo build is linked against libc, and the dynamic loader alone costs
# about 1.2 ms at every start, which is most of what `authx token` costs on
# its cached path (docs/benchmarks.md). They also run on any Linux.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/authx ./cmd/authx/front
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/authx-cli ./cmd/authx
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/docker-credential-authx ./cmd/docker-credential-authx
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ $(PLUGINS)

install:
	$(MAKE) build BIN=$(GOBIN)

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

# Fuzzes every Fuzz target for FUZZTIME (default 5s) each. `make test` runs
# their seed corpora (testdata/fuzz) already.
fuzz:
	@GO=$(GO) sh .ci/fuzz

# The third-party plugin examples under docs/examples, each its own module:
# built, conformance-tested and run end to end against the authx of this tree.
# The Python ones (apikey; hmac, whose end-to-end tests are in hmac-signer's
# module) are written on the SDK in plugins/sdk/python, whose generated _pb/
# is checked here, and run with Debian's python3 (python3-grpcio,
# python3-protobuf).
# The Node ones (apikey-node; hmac-signer-node, whose end-to-end tests are in
# hmac-signer's module), on plugins/sdk/node, need node and their npm
# dependencies (npm ci in plugins/sdk/node and in each example; .ci/run does).
examples: build
	cd docs/examples/hmac-signer && $(GO) vet ./... && $(GO) test -race -count=1 ./...
	sh plugins/sdk/python/generate.sh --check
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	printf 'key: env:EXAMPLE_API_KEY\n' >"$$tmp/config.yaml" && \
	export PATH="/usr/bin:$$PATH" EXAMPLE_API_KEY=example-key-0123 XDG_CACHE_HOME="$$tmp" XDG_CONFIG_HOME="$$tmp" && \
	$(BIN)/authx plugins test docs/examples/apikey-python/authx-plugin-apikey --config "$$tmp/config.yaml" && \
	printf '{}\n' >"$$tmp/empty.yaml" && printf 'key: typed-key-0123\n' >"$$tmp/answers.yaml" && \
	$(BIN)/authx plugins test docs/examples/apikey-python/authx-plugin-apikey --config "$$tmp/empty.yaml" --answers "$$tmp/answers.yaml" | grep '^input required  *pass' && \
	AUTHX_PLUGIN_PATH=docs/examples/apikey-python $(BIN)/authx header --scheme apikey --set key=env:EXAMPLE_API_KEY && \
	printf 'key_id: example\nsecret: example-secret-example-secret-0123\n' >"$$tmp/hmac.yaml" && \
	python3 docs/examples/hmac-signer-python/test_canonical.py && \
	$(BIN)/authx plugins test docs/examples/hmac-signer-python/authx-plugin-hmac --config "$$tmp/hmac.yaml"
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	printf 'key: env:EXAMPLE_API_KEY\nheaders: {X-Tenant: acme}\n' >"$$tmp/config.yaml" && \
	printf '{}\n' >"$$tmp/empty.yaml" && printf 'key: typed-key-0123\n' >"$$tmp/answers.yaml" && \
	export EXAMPLE_API_KEY=example-key-0123 XDG_CACHE_HOME="$$tmp" XDG_CONFIG_HOME="$$tmp" && \
	$(BIN)/authx plugins test docs/examples/apikey-node/authx-plugin-apikey --config "$$tmp/config.yaml" && \
	$(BIN)/authx plugins test docs/examples/apikey-node/authx-plugin-apikey --config "$$tmp/empty.yaml" --answers "$$tmp/answers.yaml" | grep '^input required  *pass' && \
	printf 'key_id: example\nsecret: example-secret-example-secret-0123\n' >"$$tmp/hmac.yaml" && \
	$(BIN)/authx plugins test docs/examples/hmac-signer-node/authx-plugin-hmac --config "$$tmp/hmac.yaml"

# Builds everything, starts the demo API on loopback and runs authx against it.
demo: build
	$(GO) build -o $(BIN)/ ./core/demoserver/cmd/authx-demo-server ./plugins/jwt/jwttest/cmd/authx-jwt-test-server ./plugins/jenkins/jenkinstest/cmd/authx-jenkins-test-server
	@BIN=$(BIN) sh docs/demo.sh

# Cached vs cold `authx token` next to a bare Go binary's start; authx
# proxy next to going straight to the server (latency, 1 GiB, peak RSS).
bench: build
	@BIN=$(BIN) sh bench/startup.sh
	@$(GO) run ./bench/download -bin $(BIN)
	@$(GO) run ./bench/proxy -bin $(BIN)

# Peak RSS of authx while `authx request -o` streams a 1 GiB download.
bench-download: build
	@$(GO) run ./bench/download -bin $(BIN)

# Regenerates the Go code of the plugin protocol; needs protoc (Debian:
# protobuf-compiler 3.21.12). The generated files are committed.
generate:
	@command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 2; }
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(TOOLS) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	PATH=$(TOOLS):$$PATH protoc -I core/proto \
		--go_out=core/proto --go_opt=paths=source_relative \
		--go-grpc_out=core/proto --go-grpc_opt=paths=source_relative \
		$(PROTO:core/proto/%=%)

# Fails when the committed generated code differs from what `make generate` makes.
generate-check: generate
	git diff --exit-code -- core/proto

clean:
	rm -rf $(BIN) $(TOOLS)
