#!/usr/bin/env bash
# Builds the test control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kwok) pinned by test/cluster/go.mod into a cache dir outside the repo, and prints one binary
# path per line on stdout (progress goes to stderr). Idempotent: once built, a run only prints
# the cached paths.
#
#   bash test/cluster/build.sh           build what is missing, print the paths
#   bash test/cluster/build.sh --check   print the paths if all are built, else exit 3 (no build)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
K8S_VERSION="v1.36.3" # keep in step with go.mod (k8s.io/kubernetes and the staging replaces)
# Bump when the build recipe below changes in a way that changes the binaries.
RECIPE=1

CACHE_ROOT="${FATHOM_CACHE:-$HOME/.cache/fathom}"
# The directory name changes whenever a pinned version does: go.mod/go.sum are hashed in.
KEY="$(cat "$HERE/go.mod" "$HERE/go.sum" <(echo "recipe=$RECIPE") | sha256sum | cut -c1-12)"
DEST="$CACHE_ROOT/cluster/$K8S_VERSION-$KEY"

NAMES=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
package_of() {
  case "$1" in
    etcd) echo go.etcd.io/etcd/server/v3 ;;
    kwok) echo sigs.k8s.io/kwok/cmd/kwok ;;
    *) echo "k8s.io/kubernetes/cmd/$1" ;;
  esac
}

STAGES="$DEST/kwok-stages.yaml"

print_paths() {
  for n in "${NAMES[@]}"; do echo "$DEST/$n"; done
  echo "$STAGES"
}

all_built() {
  for n in "${NAMES[@]}"; do [[ -x "$DEST/$n" ]] || return 1; done
  [[ -s "$STAGES" ]]
}

if all_built; then
  print_paths
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
  echo "build.sh: control plane not built yet in $DEST (run: bash test/cluster/build.sh)" >&2
  exit 3
fi
if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: 'go' not found on PATH; cannot build the test control plane" >&2
  exit 2
fi

mkdir -p "$DEST"
# Two test runs may start a cold build at once: the second waits, then finds the binaries.
exec 9>"$DEST/.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if all_built; then
  print_paths
  exit 0
fi

# Version stamps so /version reports the real release (clients and kwok read it).
KUBE_LDFLAGS="-X k8s.io/component-base/version.gitVersion=$K8S_VERSION"
KUBE_LDFLAGS+=" -X k8s.io/component-base/version.gitMajor=$(echo "${K8S_VERSION#v}" | cut -d. -f1)"
KUBE_LDFLAGS+=" -X k8s.io/component-base/version.gitMinor=$(echo "${K8S_VERSION#v}" | cut -d. -f2)"
KUBE_LDFLAGS+=" -X k8s.io/component-base/version.gitTreeState=clean"

TMP="$(mktemp -d "$DEST/.build.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
start=$(date +%s)
for n in "${NAMES[@]}"; do
  [[ -x "$DEST/$n" ]] && continue
  if [[ -z "${announced:-}" ]]; then
    echo "build.sh: building the test control plane ($K8S_VERSION) into $DEST; cold builds take many minutes" >&2
    announced=1
  fi
  t0=$(date +%s)
  extra=""
  [[ "$n" == kube-* ]] && extra="$KUBE_LDFLAGS"
  (cd "$HERE" && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w $extra" -o "$TMP/$n" "$(package_of "$n")") >&2
  # Move into place only when complete, so an interrupted build never leaves a half binary.
  mv -f "$TMP/$n" "$DEST/$n"
  echo "build.sh: $n built in $(($(date +%s) - t0))s ($(du -h "$DEST/$n" | cut -f1))" >&2
done

# kwok simulates nothing without Stage objects; kwokctl feeds it its default ones. Take those
# of the pinned kwok from the module cache (node: initialize, heartbeat with lease; pod: ready,
# complete, delete) so the stages always match the binary.
if [[ ! -s "$STAGES" ]]; then
  KWOK_DIR="$(cd "$HERE" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    echo "---"
    cat "$KWOK_DIR/kustomize/stage/$f"
  done >"$TMP/kwok-stages.yaml"
  mv -f "$TMP/kwok-stages.yaml" "$STAGES"
fi
[[ -n "${announced:-}" ]] && echo "build.sh: build took $(($(date +%s) - start))s" >&2
print_paths
