#!/usr/bin/env bash
# Ensures the Kubernetes binaries the end-to-end and Helm tests run (kube-apiserver, kubectl, etcd, helm)
# are built in the cache and prints the directory holding them. Everything is compiled from the Go module
# proxy, so a fresh machine needs only Go. Each version set gets its own directory, so bumping a version
# never mixes binaries. Safe to interrupt and to run concurrently: one build at a time under a lock, in a
# temp dir that is renamed into place only once every binary reports the expected version.
set -euo pipefail

k8s_version=1.37.2
# Kubernetes 1.37 takes etcd servers from 3.5.24 on (kubeadm's MinExternalEtcdVersion); its CI runs 3.7.0.
etcd_version=3.6.16
helm_version=3.22.0

cache=${SIGNALBOX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/signalbox}
root="$cache/k8s"
dir="$root/v$k8s_version-etcd$etcd_version-helm$helm_version"

say() { echo "signalbox: $*" >&2; }
die() { say "$*"; exit 1; }

# A binary that runs but was not stamped reports v0.0.0-master or v3.x, so the version is compared too.
check() {
  local bin=$1 said
  said=$("$bin/kube-apiserver" --version 2>&1) && [[ $said == *"Kubernetes v$k8s_version"* ]] || return 1
  said=$("$bin/kubectl" version --client 2>&1) && [[ $said == *"Client Version: v$k8s_version"* ]] || return 1
  said=$("$bin/etcd" --version 2>&1) && [[ $said == *"etcd Version: $etcd_version"* ]] || return 1
  said=$("$bin/helm" version 2>&1) && [[ $said == *"Version:\"v$helm_version\""* ]] || return 1
}

if check "$dir/bin" 2>/dev/null; then echo "$dir/bin"; exit 0; fi

command -v go >/dev/null || die "go is needed to build the Kubernetes binaries"
command -v flock >/dev/null || die "flock (util-linux) is needed to build the Kubernetes binaries"
mkdir -p "$root"
exec 9>"$root/.lock"
if ! flock -n 9; then
  say "another build of the Kubernetes binaries is running; waiting for it"
  flock 9
fi
if check "$dir/bin" 2>/dev/null; then echo "$dir/bin"; exit 0; fi

tmp=$(mktemp -d "$root/.build-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# Go runs in the background so that a signal reaches this script at once (bash would otherwise wait for
# the whole build) and the build is stopped rather than left compiling for nobody. Go takes SIGINT as
# "finish the running compile, then clean up its work dir"; a SIGTERM would orphan the compiler.
child=
stop() { [ -z "$child" ] || { kill -INT "$child" 2>/dev/null; wait "$child" 2>/dev/null; }; exit "$1"; }
trap 'stop 130' INT
trap 'stop 143' TERM
out="$tmp/out/bin"
mkdir -p "$out"
# The throwaway modules below must not pick up a workspace of whoever runs this, and static binaries
# keep working whatever libc the tests run on.
export GOWORK=off CGO_ENABLED=0
gogo() { nice -n 15 go "$@" & child=$!; wait "$child"; }
# Prints the path of the go.mod of module@version, downloading the module on the way.
gomod_of() {
  local json
  if ! json=$(gogo mod download -json "$1"); then
    sed -n 's/^[[:space:]]*"Error": "\(.*\)",*$/\1/p' <<<"$json" >&2
    return 1
  fi
  sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p' <<<"$json"
}
started=$SECONDS

# k8s.io/kubernetes points every staging module (k8s.io/api, k8s.io/client-go, ...) at ./staging, which
# does not exist outside its repository; each one is published as v0.<minor>.<patch>, so a module of our
# own that requires k8s.io/kubernetes and redirects them all there can build it. The list comes from
# that version's go.mod because it changes between releases.
build_kubernetes() {
  local gomod major minor patch staging m date ldflags p
  local -a replaces=()
  IFS=. read -r major minor patch <<<"$k8s_version"
  gomod=$(gomod_of "k8s.io/kubernetes@v$k8s_version") && [ -n "$gomod" ] ||
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
  gogo get "k8s.io/kubernetes/cmd/kube-apiserver@v$k8s_version" "k8s.io/kubernetes/cmd/kubectl@v$k8s_version" >&2 ||
    die "could not resolve the dependencies of k8s.io/kubernetes@v$k8s_version"
  # The same stamps hack/lib/version.sh sets: kubectl and the apiserver compare these versions, and the
  # apiserver derives its emulation version from them.
  date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  ldflags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $p.gitVersion=v$k8s_version -X $p.gitMajor=$major -X $p.gitMinor=$minor"
    ldflags+=" -X $p.gitTreeState=clean -X $p.gitCommit= -X $p.buildDate=$date"
  done
  say "building kube-apiserver and kubectl v$k8s_version (slow on a cold Go build cache)"
  gogo build -trimpath -tags=selinux,notest,grpcnotrace -ldflags "$ldflags" -o "$out/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl >&2 ||
    die "building kube-apiserver and kubectl v$k8s_version failed"
}

# A module of its own, so that the etcd server's requirements never raise the etcd client libraries
# the apiserver was released with.
build_etcd() {
  local gomod
  gomod=$(gomod_of "go.etcd.io/etcd/server/v3@v$etcd_version") && [ -n "$gomod" ] ||
    die "could not download go.etcd.io/etcd/server/v3@v$etcd_version from the Go module proxy"
  mkdir "$tmp/etcd"
  cd "$tmp/etcd"
  printf 'module signalbox.invalid/etcd\n\ngo %s\n' "$(awk '$1 == "go" { print $2; exit }' "$gomod")" > go.mod
  say "building etcd v$etcd_version"
  gogo get "go.etcd.io/etcd/server/v3@v$etcd_version" >&2 ||
    die "could not resolve the dependencies of go.etcd.io/etcd/server/v3@v$etcd_version"
  gogo build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3 >&2 ||
    die "building etcd v$etcd_version failed"
}

# Without the Kubernetes stamps `helm template` assumes a v1.20 cluster and rejects charts whose
# kubeVersion asks for anything newer; the Helm Makefile derives them from its client-go the same way.
build_helm() {
  local gomod client_go kmajor kminor ldflags
  gomod=$(gomod_of "helm.sh/helm/v3@v$helm_version") && [ -n "$gomod" ] ||
    die "could not download helm.sh/helm/v3@v$helm_version from the Go module proxy"
  client_go=$(awk '$1 == "k8s.io/client-go" { print $2; exit }' "$gomod")
  IFS=. read -r kmajor kminor _ <<<"${client_go#v}"
  [ -n "$kminor" ] || die "found no k8s.io/client-go requirement in $gomod"
  kmajor=$((kmajor + 1))
  ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=v$helm_version"
  ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  ldflags+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=$kmajor"
  ldflags+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$kminor"
  ldflags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=$kmajor"
  ldflags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$kminor"
  say "building helm v$helm_version"
  cd "$tmp"
  GOBIN="$out" gogo install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@v$helm_version" >&2 ||
    die "building helm v$helm_version failed"
}

build_kubernetes
build_etcd
build_helm
check "$out" || die "the freshly built binaries in $out do not report the expected versions"
# Whatever sits at $dir failed the check above; nobody else writes it while we hold the lock.
[ ! -e "$dir" ] || mv -T "$dir" "$tmp/stale"
mv -T "$tmp/out" "$dir"
say "built the Kubernetes binaries in $((SECONDS - started))s"
echo "$dir/bin"
