#!/usr/bin/env bash
# Checks the conformance environment end to end, the way the suite will use it, without signalbox or
# the suite: `up`; a Deployment of two echo-basic replicas behind a Service; both Pods Ready with an
# IP, an EndpointSlice listing both as ready, each answering its own name on Pod-IP:3000 and
# `kubectl logs` showing that request (and nothing with a --since-time to come); scaled to
# 0 and back, the reused IPs answer the new Pods' names; then `down`, after which no process,
# network namespace or mount of the run may be left. Needs root (and builds the binaries on first use).
#   conformance/env/self-check.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$here"
PATH=$(scripts/node24.sh):$PATH
export PATH

say() { echo "self-check: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
env_tool() { node --no-node-snapshot conformance/env/main.ts "$@"; }
in_run() { conformance/env/exec "$@"; }
k() { in_run kubectl -n self-check "$@"; }

trap 'env_tool down >/dev/null 2>&1 || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The image as the suite's base manifests name it; the runner runs it as the echo-basic binary.
image=$(sed -n 's/^ *image: \(.*echo-basic.*\)$/\1/p' /root/go/pkg/mod/sigs.k8s.io/gateway-api/conformance@v1.6.3/base/manifests.yaml 2>/dev/null | head -1)
image=${image:-registry.k8s.io/gateway-api/echo-basic:v1.5.1}

t=$SECONDS
env_tool up
say "up in $((SECONDS - t)) s"

in_run kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: self-check
---
apiVersion: v1
kind: Service
metadata:
  name: echo
  namespace: self-check
spec:
  selector:
    app: echo
  ports:
  - port: 8080
    targetPort: 3000
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
  namespace: self-check
spec:
  replicas: 2
  selector:
    matchLabels:
      app: echo
  template:
    metadata:
      labels:
        app: echo
    spec:
      containers:
      - name: echo
        image: $image
        env:
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        - name: NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
EOF

# Pods Ready, each IP answering with its own Pod's name, and the EndpointSlice listing exactly those IPs.
check_pods() {
  local names ips slice name ip answer
  k wait --for=condition=Ready pod -l app=echo --timeout=60s >/dev/null || fail "the Pods did not become Ready"
  [ "$(k get pods -l app=echo --no-headers | wc -l)" = 2 ] || fail "expected 2 Pods"
  names=$(k get pods -l app=echo -o jsonpath='{range .items[*]}{.metadata.name} {.status.podIP}{"\n"}{end}')
  ips=$(awk '{print $2}' <<<"$names" | sort | xargs)
  for _ in $(seq 1 50); do
    slice=$(k get endpointslices -l kubernetes.io/service-name=echo -o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]}{"\n"}{end}' | sort | xargs)
    [ "$slice" = "$ips" ] && break
    sleep 0.2
  done
  [ "$slice" = "$ips" ] || fail "the EndpointSlice lists '$slice' as ready, the Pods have '$ips'"
  while read -r name ip; do
    answer=$(in_run curl -s -m 5 "http://$ip:3000/self-check") || fail "$ip:3000 did not answer"
    grep -q "\"pod\": \"$name\"" <<<"$answer" || fail "$ip:3000 did not answer as $name: $answer"
    grep -q '"namespace": "self-check"' <<<"$answer" || fail "$ip:3000 did not report its namespace"
  done <<<"$names"
  # pods/log: the API server proxies it to the fake Node's kubelet endpoint, the pod runner's.
  while read -r name ip; do
    k logs "$name" | grep -q 'Echoing back request made to /self-check' || fail "kubectl logs $name lacks the request to $ip"
    [ -z "$(k logs "$name" --since-time="$(date -u -d '+1 hour' +%FT%TZ)")" ] || fail "kubectl logs $name --since-time in an hour is not empty"
  done <<<"$names"
  say "2 Pods Ready, in the EndpointSlice, answering, their logs showing the requests: $ips"
  echo "$ips"
}

first=$(check_pods)
k scale deploy/echo --replicas=0 >/dev/null
k wait --for=delete pod -l app=echo --timeout=60s >/dev/null || fail "the Pods were not deleted"
[ "$(ip netns list | grep -c '^signalbox-conf-pod-')" = 0 ] || fail "a pod namespace outlived its Pod"
say "scaled to 0: no pod namespace left"
k scale deploy/echo --replicas=2 >/dev/null
second=$(check_pods)
[ "$first" = "$second" ] && say "scaled back to 2: the same IPs ($second) answer as the new Pods" ||
  say "scaled back to 2 on other IPs ($second), which answer"

t=$SECONDS
env_tool down
trap - EXIT
say "down in $((SECONDS - t)) s"
# Only this run's processes: the e2e tests of someone else may be running the same kube-apiserver binary.
left=$(ps -eo pid=,args= | grep -E "conformance-run|$HOME/.cache/signalbox/conformance/|conformance/env/main.ts (pod-runner|control-plane)" | grep -v grep || true)
[ -z "$left" ] || fail "processes outlived down: $left"
! ip netns list | grep -q '^signalbox-conf' || fail "network namespaces outlived down: $(ip netns list | xargs)"
! grep -q ' /run/netns' /proc/mounts || [ -n "$(ls -A /run/netns 2>/dev/null)" ] || fail "/run/netns is still mounted with nothing in it"
say "passed: nothing of the run is left"
