#!/usr/bin/env bash
# Builds Helm, pinned by test/helm/go.mod, from the Go module proxy into a cache dir outside the
# repo (the chart tests render charts/fathom with it) and prints the binary's path.
#
#   bash test/helm/build.sh           build if missing, print the path
#   bash test/helm/build.sh --check   print the path if built, else exit 3 (no build)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../go-tool.sh
source "$HERE/../go-tool.sh"
VERSION="v4.3.2" # keep in step with go.mod (helm.sh/helm/v4)
# The version stamp makes `helm version` (and the chart's .Capabilities.HelmVersion) tell the truth.
LDFLAGS="-s -w -X helm.sh/helm/v4/internal/version.version=$VERSION"
cached_go_build helm "helm-$VERSION" "$HERE" helm.sh/helm/v4/cmd/helm "$LDFLAGS" "${1:-}" \
  "$HERE/go.mod" "$HERE/go.sum"
