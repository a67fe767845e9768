#!/usr/bin/env bash
# Ensures the binaries of the Gateway API conformance environment (conformance/README.md) are built in
# the cache and prints the directory holding them: kube-controller-manager and kube-scheduler (the
# same Kubernetes release as scripts/k8s-binaries.sh), kwok (fakes the Node and the Pods' status),
# echo-basic (the suite's backend) and conformance.test (the suite, from the wrapper module in
# conformance/suite). kwok's stage definitions are copied next to them, from the kwok module itself.
# Like k8s-binaries.sh: everything comes from the Go module proxy, each version set gets a directory of
# its own, one build at a time under a lock, in a temp dir renamed into place once every binary checks.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
k8s_version=1.37.2
kwok_version=0.8.0
# v1.7.0 needs Go >= 1.27 and moved echo-basic to a module the proxy refuses (conformance/README.md).
gateway_api_version=1.6.3
suite="$here/conformance/suite"

cache=${SIGNALBOX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/signalbox}
root="$cache/conformance"
# The suite's sources are part of the key: editing conformance/suite must not reuse a stale build.
suite_sum=$(cat "$suite/go.mod" "$suite/go.sum" "$suite/conformance_test.go" | sha256sum | cut -c1-12)
dir="$root/v$k8s_version-kwok$kwok_version-gwapi$gateway_api_version-suite$suite_sum"

say() { echo "signalbox: $*" >&2; }
die() { say "$*"; exit 1; }

# An unstamped Kubernetes binary reports v0.0.0-master, so the version is compared; the others have no
# version to ask, so they must at least start.
check() {
  local bin=$1 said s
  said=$("$bin/kube-controller-manager" --version 2>&1) && [[ $said == *"Kubernetes v$k8s_version"* ]] || return 1
  said=$("$bin/kube-scheduler" --version 2>&1) && [[ $said == *"Kubernetes v$k8s_version"* ]] || return 1
  said=$("$bin/kwok" --version 2>&1) && [[ $said == *"$kwok_version"* ]] || return 1
  said=$("$bin/conformance.test" -test.list . 2>&1) && [[ $said == *TestConformance* ]] || return 1
  [ -x "$bin/echo-basic" ] || return 1
  for s in node-fast node-heartbeat pod-fast; do [ -s "$bin/../stages/$s.yaml" ] || return 1; done
}

if check "$dir/bin" 2>/dev/null; then echo "$dir/bin"; exit 0; fi

command -v go >/dev/null || die "go is needed to build the conformance binaries"
command -v flock >/dev/null || die "flock (util-linux) is needed to build the conformance binaries"
mkdir -p "$root"
exec 9>"$root/.lock"
if ! flock -n 9; then
  say "another build of the conformance binaries is running; waiting for it"
  flock 9
fi
if check "$dir/bin" 2>/dev/null; then echo "$dir/bin"; exit 0; fi

tmp=$(mktemp -d "$root/.build-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# Go runs in the background so that a signal reaches this script at once and the build is stopped
# rather than left compiling for nobody; Go takes SIGINT as "stop and clean up" (see k8s-binaries.sh).
child=
stop() { [ -z "$child" ] || { kill -INT "$child" 2>/dev/null; wait "$child" 2>/dev/null; }; exit "$1"; }
trap 'stop 130' INT
trap 'stop 143' TERM
out="$tmp/out/bin"
mkdir -p "$out" "$tmp/out/stages"
export GOWORK=off CGO_ENABLED=0
gogo() { nice -n 15 go "$@" & child=$!; wait "$child"; }
# Prints the field (GoMod or Dir) of module@version from `go mod download -json`, downloading it.
mod_field() {
  local json
  if ! json=$(gogo mod download -json "$1"); then
    sed -n 's/^[[:space:]]*"Error": "\(.*\)",*$/\1/p' <<<"$json" >&2
    return 1
  fi
  sed -n "s/^[[:space:]]*\"$2\": \"\\(.*\\)\",*\$/\\1/p" <<<"$json"
}
started=$SECONDS

# The staging-module trick of k8s-binaries.sh: k8s.io/kubernetes points k8s.io/api, k8s.io/client-go,
# ... at ./staging, so a module of our own redirects each to its published v0.<minor>.<patch>.
build_kubernetes() {
  local gomod major minor patch staging m date ldflags p
  local -a replaces=()
  IFS=. read -r major minor patch <<<"$k8s_version"
  gomod=$(mod_field "k8s.io/kubernetes@v$k8s_version" GoMod) && [ -n "$gomod" ] ||
    die "could not download k8s.io/kubernetes@v$k8s_version from the Go module proxy"
  staging=$(awk '{ sub(/^[ \t]*(replace[ \t]+)?/, "") }
    $1 ~ /^k8s\.io\// && ($2 == "=>" || $3 == "=>") && $NF ~ /^\.\/staging\// { print $1 }' "$gomod")
  grep -qx 'k8s.io/api' <<<"$staging" || die "found no staging replacements in $gomod"
  for m in $staging; do replaces+=("-replace=$m=$m@v0.$minor.$patch"); done
  mkdir "$tmp/kubernetes"
  cd "$tmp/kubernetes"
  printf 'module signalbox.invalid/kubernetes\n\ngo %s\n' "$(awk '$1 == "go" { print $2; exit }' "$gomod")" > go.mod
  go mod edit "${replaces[@]}"
  say "resolving k8s.io/kubernetes v$k8s_version with $(wc -w <<<"$staging") staging modules at v0.$minor.$patch"
  gogo get "k8s.io/kubernetes/cmd/kube-controller-manager@v$k8s_version" \
    "k8s.io/kubernetes/cmd/kube-scheduler@v$k8s_version" >&2 ||
    die "could not resolve the dependencies of k8s.io/kubernetes@v$k8s_version"
  date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  ldflags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $p.gitVersion=v$k8s_version -X $p.gitMajor=$major -X $p.gitMinor=$minor"
    ldflags+=" -X $p.gitTreeState=clean -X $p.gitCommit= -X $p.buildDate=$date"
  done
  say "building kube-controller-manager and kube-scheduler v$k8s_version (minutes, even on a warm Go cache)"
  gogo build -trimpath -tags=selinux,notest,grpcnotrace -ldflags "$ldflags" -o "$out/" \
    k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler >&2 ||
    die "building kube-controller-manager and kube-scheduler v$k8s_version failed"
}

# kwok's go.mod has no replace directives, so `go install module@version` builds it as released. Its
# stages are kustomize directories; kwok's --config takes the Stage documents themselves.
build_kwok() {
  local src s f
  say "building kwok v$kwok_version"
  cd "$tmp"
  GOBIN="$out" gogo install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@v$kwok_version" >&2 ||
    die "building kwok v$kwok_version failed"
  src=$(mod_field "sigs.k8s.io/kwok@v$kwok_version" Dir) && [ -d "$src" ] ||
    die "could not download sigs.k8s.io/kwok@v$kwok_version from the Go module proxy"
  for s in node/fast node/heartbeat pod/fast; do
    # The kustomization lists the stage files in order; each becomes one document.
    for f in $(sed -n 's/^- \(.*\.yaml\)$/\1/p' "$src/kustomize/stage/$s/kustomization.yaml"); do
      printf -- '---\n'
      cat "$src/kustomize/stage/$s/$f"
    done > "$tmp/out/stages/${s/\//-}.yaml"
    [ -s "$tmp/out/stages/${s/\//-}.yaml" ] || die "found no stages in $src/kustomize/stage/$s"
  done
}

# The wrapper module in the repository pins the suite and every dependency (go.sum), and names
# echo-basic as a tool, so both build from it exactly as committed.
build_suite() {
  say "building the Gateway API conformance suite v$gateway_api_version and echo-basic"
  cd "$suite"
  gogo build -mod=readonly -trimpath -ldflags "-s -w" -o "$out/echo-basic" \
    sigs.k8s.io/gateway-api/conformance/echo-basic >&2 || die "building echo-basic failed"
  gogo test -mod=readonly -c -trimpath -ldflags "-s -w" -o "$out/conformance.test" . >&2 ||
    die "building the conformance suite failed"
}

build_kwok
build_suite
build_kubernetes
check "$out" || die "the freshly built binaries in $out do not all check"
# Whatever sits at $dir failed the check above; nobody else writes it while we hold the lock.
[ ! -e "$dir" ] || mv -T "$dir" "$tmp/stale"
mv -T "$tmp/out" "$dir"
say "built the conformance binaries in $((SECONDS - started))s"
echo "$dir/bin"
