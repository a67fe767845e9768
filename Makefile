# signalbox — developer entry points. Every target bootstraps what it needs: Node.js (the version in
# .node-version, from the npm registry, cached outside the repository) and the npm dependencies.
SHELL := bash
.DEFAULT_GOAL := help

NODE_BIN := $(shell scripts/node24.sh)
ifeq ($(NODE_BIN),)
$(error could not bootstrap Node.js; see the message above)
endif
export PATH := $(NODE_BIN):$(PATH)
# Native addons build against the headers of the Node.js we run, not the system's.
export npm_config_nodedir := $(abspath $(NODE_BIN)/..)
export npm_config_update_notifier := false

DEPS := node_modules/.signalbox-installed

$(DEPS): package.json package-lock.json .node-version
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: help deps test e2e conformance conformance-up conformance-down typecheck demo demo-shards demo-pausing bench bench-scripts bench-protocols compile-example golden

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s $$'\t'

deps: $(DEPS) ## install Node.js and the npm dependencies

test: $(DEPS) ## type-check and run the test suite
	npm test --silent

# The binaries are fetched first, outside any test timeout: a cold build takes about 11 minutes.
e2e: $(DEPS) ## end-to-end tests against a real kube-apiserver and etcd (builds them on first use)
	scripts/k8s-binaries.sh >/dev/null
	node --no-node-snapshot --test --test-concurrency=1 "e2e/**/*.e2e.ts"

# The Gateway API conformance environment (conformance/README.md): needs root (network namespaces)
# and Go; the binaries are built on first use (~6 min on a warm Go cache).
conformance: $(DEPS) ## Gateway API conformance suite against signalbox in network namespaces (root, Go; SUITE_ARGS='-run-test=NAME')
	conformance/run.sh

conformance-up: $(DEPS) ## bring up the conformance environment alone (then: conformance/env/exec kubectl get pods -A)
	node --no-node-snapshot conformance/env/main.ts up

conformance-down: ## stop the conformance environment: every process, namespace and state file
	node --no-node-snapshot conformance/env/main.ts down

typecheck: $(DEPS) ## type-check only
	npm run --silent typecheck

demo: $(DEPS) ## start two example backends and signalbox serve on examples/quickstart
	node examples/quickstart/demo.ts

# Which examples/shard-routing variant `make demo-shards` serves: data-map or lookup-service.
VARIANT ?= data-map

demo-shards: $(DEPS) ## tenant to shard routing by RouteScript on examples/shard-routing (VARIANT=data-map|lookup-service)
	node examples/shard-routing/demo.ts --variant $(VARIANT)

demo-pausing: $(DEPS) ## request pausing walkthrough on examples/request-pausing: a deploy, an operator's pause, a tenant move (~25 s)
	node examples/request-pausing/demo.ts

bench: $(DEPS) ## proxy benchmark: direct vs nginx vs signalbox (needs nginx and wrk)
	node bench/proxy.ts

bench-scripts: $(DEPS) ## RouteScript benchmark: one worker with and without a script on its route (needs nginx and wrk)
	node bench/scripts.ts

bench-protocols: $(DEPS) ## HTTPS, HTTP/2 clients, HTTPS upstream and gRPC: signalbox vs nginx (needs nginx, wrk, h2load, Go; ~4 min)
	node bench/protocols.ts

compile-example: $(DEPS) ## print the routing table compiled from examples/quickstart
	node bin/signalbox.js compile --in examples/quickstart

golden: $(DEPS) ## regenerate testdata/compile*/*.out.yaml (review the diff!)
	UPDATE_GOLDEN=1 node --no-node-snapshot --test test/compile/golden.test.ts test/compile/back-half-golden.test.ts

# Install artefacts. The chart carries a copy of crds/ (not a symlink: the chart directory must stand
# on its own), and deploy/signalbox.yaml is the chart rendered with its defaults; test/chart/ fails
# when either is stale.
.PHONY: chart-crds deploy-manifest

chart-crds: $(DEPS) ## copy crds/routescript.yaml into charts/signalbox/crds/ and crds/gateway-api/ into charts/signalbox/files/ (after changing a CRD)
	node test/chart/chart-tools.ts chart-crds

deploy-manifest: chart-crds ## regenerate deploy/signalbox.yaml from the chart (builds helm on first use, ~11 min)
	scripts/k8s-binaries.sh >/dev/null
	node test/chart/chart-tools.ts deploy-manifest
