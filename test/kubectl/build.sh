#!/usr/bin/env bash
# Builds kubectl, pinned by test/kubectl/go.mod, from the Go module proxy into a cache dir outside
# the repo and prints the binary's path: the kubectl plugin tests need one that completes plugins
# (1.26 or later), whatever kubectl the machine has. Idempotent: the cache path carries a hash of
# go.mod, go.sum and main.go, so a new pin rebuilds and an unchanged one only prints the path.
#
#   bash test/kubectl/build.sh           build if missing, print the path
#   bash test/kubectl/build.sh --check   print the path if built, else exit 3 (no build)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VERSION="v1.36.3" # keep in step with go.mod (k8s.io/kubectl v0.36.3)
CACHE_ROOT="${FATHOM_CACHE:-$HOME/.cache/fathom}"
HASH="$(cat "$HERE/go.mod" "$HERE/go.sum" "$HERE/main.go" | sha256sum | cut -c1-12)"
DEST_DIR="$CACHE_ROOT/bin/kubectl-$VERSION-$HASH"
BINARY="$DEST_DIR/kubectl"

if [[ -x "$BINARY" ]]; then
  echo "$BINARY"
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
  echo "build.sh: kubectl $VERSION not built yet in $DEST_DIR (run: bash test/kubectl/build.sh)" >&2
  exit 3
fi
if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: 'go' not found on PATH; cannot build kubectl $VERSION" >&2
  exit 2
fi

echo "build.sh: building kubectl $VERSION (GOPROXY=$(go env GOPROXY)) into $DEST_DIR" >&2
mkdir -p "$DEST_DIR"
TMP_BIN="$(mktemp -d "$DEST_DIR/.build.XXXXXX")"
trap 'rm -rf "$TMP_BIN"' EXIT
# The version stamp makes `kubectl version --client` tell the truth.
LDFLAGS="-s -w -X k8s.io/component-base/version.gitVersion=$VERSION"
LDFLAGS+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=36"
(cd "$HERE" && CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" \
  go build -trimpath -ldflags="$LDFLAGS" -o "$TMP_BIN/kubectl" .) >&2

mv -f "$TMP_BIN/kubectl" "$BINARY"
echo "$BINARY"
