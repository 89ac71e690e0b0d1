# Sourced by the build scripts of the Go tools the tests run (helm, kubectl, the kstatus peer):
# builds one from the Go module proxy into a cache dir outside the repo and prints its path.
# Idempotent: the cache dir's name carries a hash of the given files (go.mod, go.sum, sources),
# so a new pin rebuilds and an unchanged one only prints the cached path.
#
#   cached_go_build NAME LABEL MODULE_DIR PACKAGE LDFLAGS MODE FILE...
#
# MODE is "--check" (print the path if built, else exit 3, never build) or anything else.

cached_go_build() {
  local name="$1" label="$2" dir="$3" package="$4" ldflags="$5" mode="$6"
  shift 6
  local hash dest binary tmp
  hash="$(cat "$@" | sha256sum | cut -c1-12)"
  dest="${FATHOM_CACHE:-$HOME/.cache/fathom}/bin/$label-$hash"
  binary="$dest/$name"
  if [[ -x "$binary" ]]; then
    echo "$binary"
    return 0
  fi
  if [[ "$mode" == "--check" ]]; then
    echo "build.sh: $label not built yet in $dest (run: bash $dir/build.sh)" >&2
    return 3
  fi
  if ! command -v go >/dev/null 2>&1; then
    echo "build.sh: 'go' not found on PATH; cannot build $label" >&2
    return 2
  fi
  echo "build.sh: building $label (GOPROXY=$(go env GOPROXY)) into $dest" >&2
  mkdir -p "$dest"
  # Built in a temp dir first, so an interrupted build never leaves a half-written binary.
  tmp="$(mktemp -d "$dest/.build.XXXXXX")"
  # -mod=readonly: go.mod and go.sum are complete, so a build never rewrites files in the repo;
  # -buildvcs=false: no git stamping (the checkout may not be a repository, or not be ours).
  if ! (cd "$dir" && CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" \
    go build -trimpath -ldflags="$ldflags" -o "$tmp/$name" "$package") >&2; then
    rm -rf "$tmp"
    return 1
  fi
  mv -f "$tmp/$name" "$binary"
  rm -rf "$tmp"
  echo "$binary"
}
