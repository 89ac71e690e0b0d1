#!/usr/bin/env bash
# Builds kubectl, pinned by test/kubectl/go.mod, from the Go module proxy into a cache dir outside
# the repo and prints the binary's path: the kubectl plugin tests need one that completes plugins
# (1.26 or later), whatever kubectl the machine has.
#
#   bash test/kubectl/build.sh           build if missing, print the path
#   bash test/kubectl/build.sh --check   print the path if built, else exit 3 (no build)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../go-tool.sh
source "$HERE/../go-tool.sh"
VERSION="v1.36.3" # keep in step with go.mod (k8s.io/kubectl v0.36.3)
# The version stamp makes `kubectl version --client` tell the truth.
LDFLAGS="-s -w -X k8s.io/component-base/version.gitVersion=$VERSION"
LDFLAGS+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=36"
cached_go_build kubectl "kubectl-$VERSION" "$HERE" . "$LDFLAGS" "${1:-}" \
  "$HERE/go.mod" "$HERE/go.sum" "$HERE/main.go"
