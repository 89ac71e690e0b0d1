#!/usr/bin/env bash
# Builds Sonobuoy as an interop test peer into a cache dir outside the repo and prints the
# binary's path. Idempotent: once built, a run only prints the cached path.
set -euo pipefail

VERSION="v0.57.5"
MODULE="github.com/vmware-tanzu/sonobuoy"
CACHE_ROOT="${FATHOM_CACHE:-$HOME/.cache/fathom}"
DEST_DIR="$CACHE_ROOT/bin/sonobuoy-$VERSION"
BINARY="$DEST_DIR/sonobuoy"

if [[ -x "$BINARY" ]]; then
  echo "$BINARY"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: 'go' not found on PATH; cannot build sonobuoy $VERSION" >&2
  exit 2
fi

echo "build.sh: building $MODULE@$VERSION (GOPROXY=$(go env GOPROXY)); this takes minutes" >&2
mkdir -p "$DEST_DIR"
# Build into a temp dir first so an interrupted build never leaves a half-written binary.
TMP_BIN="$(mktemp -d "$DEST_DIR/.build.XXXXXX")"
trap 'rm -rf "$TMP_BIN"' EXIT

if ! GOBIN="$TMP_BIN" CGO_ENABLED=0 go install "$MODULE@$VERSION" >&2; then
  # `go install m@v` also reads the module's version list to look for a deprecation notice;
  # mirrors that serve single versions but refuse @v/list make that fatal. A throwaway module
  # that requires exactly $VERSION resolves the same build list without that lookup
  # (checksums are still verified against the sum database).
  echo "build.sh: 'go install $MODULE@$VERSION' failed; building through a wrapper module" >&2
  WRAP="$CACHE_ROOT/build/sonobuoy-$VERSION"
  rm -rf "$WRAP"
  mkdir -p "$WRAP"
  cat >"$WRAP/go.mod" <<MOD
module fathom.local/sonobuoy-peer

go 1.26.4

require $MODULE $VERSION
MOD
  (cd "$WRAP" && GOBIN="$TMP_BIN" CGO_ENABLED=0 GOFLAGS=-mod=mod go install "$MODULE") >&2
fi

mv -f "$TMP_BIN/sonobuoy" "$BINARY"
echo "$BINARY"
