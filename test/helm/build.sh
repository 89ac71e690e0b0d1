#!/usr/bin/env bash
# Builds Helm, pinned by test/helm/go.mod, from the Go module proxy into a cache dir outside the
# repo (the chart tests render charts/fathom with it) and prints the binary's path. Idempotent:
# the cache path carries a hash of go.mod/go.sum, so a new pin rebuilds and an unchanged one only
# prints the cached path.
#
#   bash test/helm/build.sh           build if missing, print the path
#   bash test/helm/build.sh --check   print the path if built, else exit 3 (no build)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VERSION="v4.3.2" # keep in step with go.mod (helm.sh/helm/v4)
CACHE_ROOT="${FATHOM_CACHE:-$HOME/.cache/fathom}"
HASH="$(cat "$HERE/go.mod" "$HERE/go.sum" | sha256sum | cut -c1-12)"
DEST_DIR="$CACHE_ROOT/bin/helm-$VERSION-$HASH"
BINARY="$DEST_DIR/helm"

if [[ -x "$BINARY" ]]; then
  echo "$BINARY"
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
  echo "build.sh: helm $VERSION not built yet in $DEST_DIR (run: bash test/helm/build.sh)" >&2
  exit 3
fi
if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: 'go' not found on PATH; cannot build helm $VERSION" >&2
  exit 2
fi

echo "build.sh: building helm $VERSION (GOPROXY=$(go env GOPROXY)) into $DEST_DIR" >&2
mkdir -p "$DEST_DIR"
# Build into a temp dir first so an interrupted build never leaves a half-written binary.
TMP_BIN="$(mktemp -d "$DEST_DIR/.build.XXXXXX")"
trap 'rm -rf "$TMP_BIN"' EXIT
# The version stamp makes `helm version` (and the chart's .Capabilities.HelmVersion) tell the truth.
LDFLAGS="-s -w -X helm.sh/helm/v4/internal/version.version=$VERSION"
# -mod=readonly: go.mod and go.sum are complete, so the build never rewrites files in the repo.
(cd "$HERE" && CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" \
  go build -trimpath -ldflags="$LDFLAGS" -o "$TMP_BIN/helm" helm.sh/helm/v4/cmd/helm) >&2

mv -f "$TMP_BIN/helm" "$BINARY"
echo "$BINARY"
