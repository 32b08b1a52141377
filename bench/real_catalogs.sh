#!/usr/bin/env bash
# Imports every real catalog in ../shared/data into a fresh trainer, trains, and checks Search
# and Recommend against the exact brute-force top 10 on the published snapshot.
#
#   bench/real_catalogs.sh [BUILD_DIR]     (default: build)
#   EXCLUDE=tidytuesday bench/real_catalogs.sh   the catalogs of CATALOGS.md only
#
# Prints the import and train times (wall clock) and the agreement figures quoted in
# docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bin=$build/bin
shared=../shared/data
[[ -d $shared ]] || { echo "real_catalogs: $shared is absent; nothing to measure" >&2; exit 0; }

# WORK_DIR=DIR keeps the trainer's data (and the snapshot) for further study.
work=${WORK_DIR:-$(mktemp -d)}
mkdir -p "$work"
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  [[ -n ${WORK_DIR:-} ]] || rm -rf "$work"
}
trap cleanup EXIT
"$bin/trainerd" --listen=127.0.0.1:0 --data_dir="$work/trainer" --train_debounce=0 >"$work/trainerd.out" 2>"$work/trainerd.log" &
for _ in $(seq 100); do grep -q '^listening on' "$work/trainerd.out" && break; sleep 0.1; done
addr=$(sed -n 's/^listening on //p' "$work/trainerd.out")

# EXCLUDE=PATTERN leaves out matching files (e.g. EXCLUDE=tidytuesday for CATALOGS.md's set).
files=()
for f in "$shared"/*.csv.xz; do
  [[ -n ${EXCLUDE:-} && $f == *${EXCLUDE}* ]] || files+=("$f")
done
start=$(date +%s%N)
"$bin/cratedig" import --trainer="$addr" "${files[@]}" 2>"$work/import.log" >"$work/import.out"
mid=$(date +%s%N)
"$bin/cratedig" train --trainer="$addr" --json >"$work/train.json"
end=$(date +%s%N)
cat "$work/import.out"
cat "$work/train.json"
grep 'snapshot published' "$work/trainerd.log" | sed 's/.*INFO //'
ms() { echo $((($2 - $1) / 1000000)); }
echo "import $(ms "$start" "$mid") ms, train $(ms "$mid" "$end") ms, total $(ms "$start" "$end") ms"
version=$(sed -n 's/.*"snapshot":"\([0-9]*\)".*/\1/p' "$work/train.json")
"$bin/ann_agreement" --snapshot="$work/trainer/snapshots/$version" --queries=2000 --playlists=2000 --k=10
