# The two commands a newcomer needs:
#   make test              every test: Python app, Helm chart, Pulumi components under mocks,
#                          graph snapshots, and a real deploy into a local kube-apiserver
#   make up STACK=dev      deploy a stack (pulumi up)
# Everything else is a step of those or a tool for review.

STACK ?= dev
PULUMI ?= pulumi
GO ?= go
PYTHON ?= /usr/bin/python3
# Tools built from pinned Go modules live outside the repo (see .ci/build-tools).
TOOLS_ENV = eval "$$(.ci/build-tools --print-env $(1))"

.PHONY: test setup test-python test-go test-contract test-integration lint chart-readme graph estimate preview up destroy snapshots

## Tests -------------------------------------------------------------------------------------

# Every test. Installs what is missing first (Debian packages via apt-get, tools from the Go
# module proxy into the cache), so a fresh machine needs nothing else.
test: setup test-python test-go test-contract test-integration

setup:
	.ci/setup

test-python:
	cd app-src && $(PYTHON) -m pytest -q

test-go:
	$(GO) test ./...

# The connectivity contract (internal/netpol/contract/flows.yaml) decided over the exported
# policies (testdata/netpol) with AWS's network policy resolver. A Go module of its own: the
# resolver needs older Kubernetes libraries than the program.
test-contract:
	cd internal/netpol/enforce && $(GO) vet ./... && $(GO) test -count=1 ./...

# The real-API tier: a real `pulumi up` of the Kubernetes half into etcd + kube-apiserver on
# loopback, and the objects of each add-on against the real API server. INTEGRATION_PKGS lists
# every package with tests under the integration build tag, whose names all start with
# TestIntegration (TestEveryIntegrationTestRuns checks both; docs/testing.md shows this list).
INTEGRATION_PKGS = ./internal/kubetest ./internal/charts ./eks ./addons/externalsecrets ./addons/keda .
test-integration:
	$(call TOOLS_ENV,pulumi pulumi-kubernetes kube-apiserver etcd reloader) && \
	  $(GO) test -tags integration -count=1 -timeout 30m -p 1 -run '^TestIntegration' -v $(INTEGRATION_PKGS)

# Rewrite the graph snapshots and the network policy exports after an intended change; review
# the diff before committing.
snapshots:
	$(GO) test -count=1 -run 'TestGraphSnapshots|TestNetpolExport' . -update

## Lint --------------------------------------------------------------------------------------

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	# No file is built only without the tag, so the tagged vet covers both builds.
	$(GO) vet -tags integration ./...
	$(call TOOLS_ENV,staticcheck actionlint helm-docs) && \
	  "$$STATICCHECK" ./... && "$$STATICCHECK" -tags integration ./... && \
	  "$$ACTIONLINT" .github/workflows/*.yml && \
	  { "$$HELM_DOCS" $(HELM_DOCS_FLAGS) --dry-run | diff -u app/chart/README.md - || \
	    { echo "app/chart/README.md is out of date: run make chart-readme"; exit 1; }; }
	# Known vulnerabilities of the program's modules, against the Go vulnerability database pinned
	# in .ci/tools/vulndb (no network); a missing or empty database fails (internal/vulngate).
	$(call TOOLS_ENV,govulncheck vulndb) && $(GO) run ./internal/vulngate/cmd/vulngate ./...

# The chart's README, generated from the `# --` comments in app/chart/values.yaml.
HELM_DOCS_FLAGS = --chart-search-root app/chart --sort-values-order file --skip-version-footer --log-level error
chart-readme:
	$(call TOOLS_ENV,helm-docs) && "$$HELM_DOCS" $(HELM_DOCS_FLAGS)

## Review ------------------------------------------------------------------------------------

# The planned resource tree of a stack from the mock run (no cloud access): make graph STACK=prod
graph:
	@$(GO) test -c -o .graph.test . && ./.graph.test -graph $(STACK); \
	  rc=$$?; rm -f .graph.test; exit $$rc

# A stack's modeled time of a cold `up` (app serving, whole up, critical path) and its monthly
# cost, line by line, from the same mock run (no cloud access): make estimate STACK=prod
# JSON=1 prints the report as JSON (the pull-request workflow compares base and head).
estimate:
	@$(GO) test -c -o .estimate.test . && ./.estimate.test -estimate $(STACK) $(if $(JSON),-estimate-json); \
	  rc=$$?; rm -f .estimate.test; exit $$rc

## Pulumi --------------------------------------------------------------------------------------

preview:
	$(PULUMI) preview --stack $(STACK) --diff

up:
	$(PULUMI) up --stack $(STACK)

destroy:
	$(PULUMI) destroy --stack $(STACK)
