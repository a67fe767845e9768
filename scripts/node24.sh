#!/usr/bin/env bash
# Ensures the project's Node.js (version in .node-version) is unpacked in the cache and prints its bin
# directory. Node comes from the npm registry package node-linux-<arch>, so the only thing a fresh
# machine needs is some npm. Safe to run concurrently: the unpack happens in a temp dir and is renamed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=$(tr -d ' \n' < "$here/.node-version")
case "$(uname -m)" in
  x86_64|amd64) arch=x64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) echo "signalbox: no Node.js package for $(uname -m)" >&2; exit 1 ;;
esac
cache=${SIGNALBOX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/signalbox}
dir="$cache/node-v$version-linux-$arch"
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/.node-XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "signalbox: fetching Node.js $version (node-linux-$arch) from the npm registry" >&2
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$version" >/dev/null 2>&1) || {
    echo "signalbox: could not fetch node-linux-$arch@$version with npm" >&2; exit 1; }
  tar -xzf "$tmp"/node-linux-"$arch"-*.tgz -C "$tmp"
  chmod +x "$tmp/package/bin/node"
  mv -T "$tmp/package" "$dir" 2>/dev/null || true   # another process may have won the race
fi
echo "$dir/bin"
