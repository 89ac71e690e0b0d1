#!/usr/bin/env bash
# Builds the kstatus peer (main.go here: the Go original, sigs.k8s.io/cli-utils/pkg/kstatus/status
# at the master pseudo-version pinned in go.mod) into a cache dir outside the repo and prints the
# binary's path. Idempotent: the cache path carries a hash of the sources, so an edit rebuilds and
# an unchanged tree only prints the cached path.
set -euo pipefail

SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${FATHOM_CACHE:-$HOME/.cache/fathom}"
HASH="$(cat "$SRC_DIR/go.mod" "$SRC_DIR/go.sum" "$SRC_DIR/main.go" | sha256sum | cut -c1-12)"
DEST_DIR="$CACHE_ROOT/bin/kstatus-peer-$HASH"
BINARY="$DEST_DIR/kstatus-peer"

if [[ -x "$BINARY" ]]; then
  echo "$BINARY"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: 'go' not found on PATH; cannot build the kstatus peer" >&2
  exit 2
fi

echo "build.sh: building the kstatus peer (GOPROXY=$(go env GOPROXY)) into $DEST_DIR" >&2
mkdir -p "$DEST_DIR"
# Build into a temp dir first so an interrupted build never leaves a half-written binary.
TMP_BIN="$(mktemp -d "$DEST_DIR/.build.XXXXXX")"
trap 'rm -rf "$TMP_BIN"' EXIT

# -mod=readonly: go.mod and go.sum are complete, so the build never rewrites files in the repo;
# -buildvcs=false: no git stamping (the checkout may not be a repository, or not be ours).
# The module requires cli-utils at an exact pseudo-version, so no @v/list lookup is needed.
(cd "$SRC_DIR" && CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" go build -trimpath -o "$TMP_BIN/kstatus-peer" .) >&2

mv -f "$TMP_BIN/kstatus-peer" "$BINARY"
echo "$BINARY"
