#!/usr/bin/env bash
# `make conformance`: the Gateway API conformance suite against signalbox, in the environment of
# conformance/env (conformance/README.md). Brings it up, installs the CRDs and the GatewayClass,
# starts `signalbox controller` in the run's network namespace, runs the suite (log in
# conformance/last-run.log, report in conformance/report.yaml) and always tears everything down.
#   SUITE_ARGS='-run-test=HTTPRouteSimpleSameNamespace' make conformance
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
PATH=$(scripts/node24.sh):$PATH
export PATH

say() { echo "signalbox conformance: $*" >&2; }
env_tool() { node --no-node-snapshot conformance/env/main.ts "$@"; }
in_run() { conformance/env/exec "$@"; }

gateway_class=signalbox
controller_name=signalbox.dev/gateway-controller
profiles=${CONFORMANCE_PROFILES:-GATEWAY-HTTP,GATEWAY-GRPC,GATEWAY-TLS}
# Tests this environment cannot run, by default (SKIP_TESTS= runs them all): UDPRoute's backend is
# CoreDNS, an image the pod runner does not run (conformance/README.md).
# SKIP_TESTS is read below with ${SKIP_TESTS-...}: set but empty skips nothing.
version=$(node -p 'require("./package.json").version')
log=conformance/last-run.log
signalbox_log=conformance/last-run-signalbox.log

# The builds come first, outside the traps: an interrupted build stops itself, and there is nothing
# to tear down yet.
scripts/k8s-binaries.sh >/dev/null
scripts/conformance-binaries.sh >/dev/null

# From here on, whatever happens, nothing of the run is left behind. The EXIT trap does the work;
# INT and TERM only make sure bash exits (and so runs it) instead of carrying on.
started=$SECONDS
teardown() {
  local status=$?
  trap - EXIT INT TERM
  say "tearing down (exit $status, $((SECONDS - started)) s after the start)"
  env_tool down || true
  exit "$status"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

env_tool up

say "installing the Gateway API CRDs (standard channel v1.6.3) and the RouteScript CRD"
# Server-side: the Gateway API CRDs are too large for the last-applied annotation of a client-side apply.
in_run kubectl apply --server-side -f crds/gateway-api/standard-v1.6.3.yaml -f crds/routescript.yaml >/dev/null
in_run kubectl wait --for condition=Established --timeout=60s crd --all >/dev/null
in_run kubectl apply -f - >/dev/null <<EOF
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: $gateway_class
spec:
  controllerName: $controller_name
EOF

say "starting signalbox controller on 10.244.0.1:80 and :443 (log: $signalbox_log)"
# In its own session, so that a Ctrl-C reaches only this script, which then stops it through `down`.
# Called directly, not through in_run: a backgrounded function would be a subshell, and $! its pid.
# Every step (exec, nsenter, setsid) execs the next, so $! is signalbox's own pid.
conformance/env/exec setsid node --no-node-snapshot bin/signalbox.js controller \
  --kubeconfig "$(in_run printenv KUBECONFIG)" \
  --http-port 80 --https-port 443 \
  --publish-address 10.244.0.1 \
  --gateway-addresses 10.244.2.0/24 \
  --admin-port 9901 --debug-port 9902 \
  --grace 2s \
  >"$signalbox_log" 2>&1 </dev/null &
signalbox_pid=$!
# A pid file among the servers' makes `down` stop signalbox before the API server it talks to.
kubeconfig=$(in_run printenv KUBECONFIG)
echo "$signalbox_pid" >"$(dirname "$kubeconfig")/pids/70-signalbox.pid"
ready=
for _ in $(seq 1 300); do
  if in_run curl -sf -o /dev/null http://127.0.0.1:9901/readyz; then ready=1; break; fi
  kill -0 "$signalbox_pid" 2>/dev/null || break
  sleep 0.2
done
if [ -z "$ready" ]; then
  say "signalbox controller did not become ready; last lines of $signalbox_log:"; tail -20 "$signalbox_log" >&2; exit 1
fi

say "running the suite: profiles $profiles ${SUITE_ARGS:+with $SUITE_ARGS }(log: $log)"
suite_started=$SECONDS
# shellcheck disable=SC2086 # SUITE_ARGS is a list of flags, split on purpose
set +e
in_run conformance.test -test.run TestConformance -test.v -test.timeout "${SUITE_TIMEOUT:-120m}" \
  -gateway-class="$gateway_class" \
  -conformance-profiles="$profiles" \
  -report-output "${CONFORMANCE_REPORT:-$here/conformance/report.yaml}" \
  -organization signalbox -project signalbox \
  -url https://github.com/signalbox-dev/signalbox \
  -version "v$version" \
  -contact https://github.com/signalbox-dev/signalbox/issues \
  -cleanup-base-resources=false \
  -skip-tests="${SKIP_TESTS-UDPRoute}" \
  -usable-address=10.244.2.250 -unusable-address=192.0.2.1 \
  ${SUITE_ARGS:-} 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
say "the suite ended with $status after $((SECONDS - suite_started)) s"
exit "$status"
