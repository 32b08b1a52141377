#!/usr/bin/env bash
# Search quality on the real catalogs: imports every catalog of ../shared/data into a fresh
# trainerd, trains, starts queryd on the snapshot and runs bench/eval_search against it
# (cratedig Search next to the prototype's averaged word vectors on the same queries).
#
#   bench/eval_search.sh [BUILD_DIR] [eval_search flags...]   (default build dir: build)
#   EXCLUDE=tidytuesday bench/eval_search.sh                   the catalogs of CATALOGS.md only
#   TRAINER_FLAGS="--text_vectors=fasttext" bench/eval_search.sh   other trainerd flags
#
# docs/search-quality.md quotes its output.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
bin=$build/bin
shared=../shared/data
[[ -d $shared ]] || { echo "eval_search: $shared is absent; nothing to measure" >&2; exit 0; }
[[ -x $bin/eval_search ]] || { echo "eval_search: $bin/eval_search not built (libfasttext-dev)" >&2; exit 1; }

work=${WORK_DIR:-$(mktemp -d)}
mkdir -p "$work"
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  [[ -n ${WORK_DIR:-} ]] || rm -rf "$work"
}
trap cleanup EXIT
listening() {  # FILE: waits for "listening on ADDR" and prints ADDR
  for _ in $(seq 300); do grep -q '^listening on' "$1" && break; sleep 0.1; done
  sed -n 's/^listening on //p' "$1"
}
# shellcheck disable=SC2086  # TRAINER_FLAGS is a list of flags
"$bin/trainerd" --listen=127.0.0.1:0 --data_dir="$work/trainer" ${TRAINER_FLAGS:-} >"$work/trainerd.out" 2>"$work/trainerd.log" &
trainer=$(listening "$work/trainerd.out")

files=()
for f in "$shared"/*.csv.xz; do
  [[ -n ${EXCLUDE:-} && $f == *${EXCLUDE}* ]] || files+=("$f")
done
"$bin/cratedig" import --trainer="$trainer" "${files[@]}" 2>"$work/import.log"
"$bin/cratedig" train --trainer="$trainer" --json | tee "$work/train.json"
version=$(sed -n 's/.*"snapshot":"\([0-9]*\)".*/\1/p' "$work/train.json")

"$bin/queryd" --listen=127.0.0.1:0 --trainer="$trainer" --data_dir="$work/query" >"$work/queryd.out" 2>"$work/queryd.log" &
server=$(listening "$work/queryd.out")
for _ in $(seq 600); do
  "$bin/cratedig" status --server="$server" --json 2>/dev/null | grep -q "\"$version\"" && break
  sleep 0.1
done
"$bin/eval_search" --snapshot="$work/trainer/snapshots/$version" --server="$server" "$@"
