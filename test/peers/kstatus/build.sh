#!/usr/bin/env bash
# Builds the kstatus peer (main.go here: the Go original, sigs.k8s.io/cli-utils/pkg/kstatus/status
# at the master pseudo-version pinned in go.mod) into a cache dir outside the repo and prints the
# binary's path. The module requires cli-utils at an exact pseudo-version, so no @v/list lookup
# is needed.
#
#   bash test/peers/kstatus/build.sh           build if missing, print the path
#   bash test/peers/kstatus/build.sh --check   print the path if built, else exit 3 (no build)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../../go-tool.sh
source "$HERE/../../go-tool.sh"
cached_go_build kstatus-peer kstatus-peer "$HERE" . "" "${1:-}" \
  "$HERE/go.mod" "$HERE/go.sum" "$HERE/main.go"
