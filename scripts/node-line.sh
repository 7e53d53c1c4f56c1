#!/usr/bin/env bash
# Installs the latest Node of one major line from the npm registry's `node` package into
# .node-lines/<major> (git-ignored), once, and prints the folder that holds its `node` binary.
# Usage: PATH="$(scripts/node-line.sh 26):$PATH" npm test
set -euo pipefail
major=${1:?usage: scripts/node-line.sh MAJOR}
[[ $major =~ ^[0-9]+$ ]] || { echo "node-line: MAJOR must be a number, got $major" >&2; exit 2; }
root="$(cd "$(dirname "$0")/.." && pwd)"
folder="$root/.node-lines/$major"
bin="$folder/node_modules/node/bin"
if [ ! -x "$bin/node" ] || [[ $("$bin/node" --version) != v$major.* ]]; then
  rm -rf "$folder"
  mkdir -p "$folder"
  echo '{"private":true}' >"$folder/package.json"
  npm install --prefix "$folder" --no-audit --no-fund --no-save --silent "node@$major" >&2
fi
echo "$bin"
