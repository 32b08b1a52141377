#!/usr/bin/env bash
# Recommend's agreement with the exact answer per trainer configuration: for each
# configuration, a fresh trainerd imports CATALOG_DIR, trains, and ann_agreement measures
# the snapshot's recommendation index (random playlists of 1..10 tracks, k = 10).
#
#   bench/representation_agreement.sh BUILD_DIR CATALOG_DIR [CONFIG...]
#
# A CONFIG is a quoted list of trainerd flags; default: the three rows of
# docs/benchmarks.md ("--genre_representation=weighted_onehot" with M 16 and 32, and
# "--genre_representation=embedding"). CATALOG_DIR as in scale_run.sh (artists.csv first).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?usage: representation_agreement.sh BUILD_DIR CATALOG_DIR [CONFIG...]}/bin
catalog=${2:?usage: representation_agreement.sh BUILD_DIR CATALOG_DIR [CONFIG...]}
shift 2
configs=("$@")
if ((${#configs[@]} == 0)); then
  configs=("--genre_representation=weighted_onehot --hnsw_m=16"
           "--genre_representation=weighted_onehot --hnsw_m=32"
           "--genre_representation=embedding --hnsw_m=16")
fi
files=()
[[ -f $catalog/artists.csv ]] && files+=("$catalog/artists.csv")
for f in "$catalog"/*.csv*; do
  [[ $f == "$catalog/artists.csv" ]] || files+=("$f")
done
for config in "${configs[@]}"; do
  work=$(mktemp -d)
  # shellcheck disable=SC2086
  "$bin/trainerd" --listen=127.0.0.1:0 --data_dir="$work/trainer" --train_debounce=0 \
    $config >"$work/out" 2>"$work/log" &
  trainer_pid=$!
  for _ in $(seq 300); do grep -q '^listening on' "$work/out" && break; sleep 0.2; done
  address=$(sed -n 's/^listening on //p' "$work/out")
  start=$SECONDS
  "$bin/cratedig" import --trainer="$address" "${files[@]}" >/dev/null
  "$bin/cratedig" train --trainer="$address" --json --timeout=3600 >"$work/train.json"
  version=$(sed -n 's/.*"snapshot":"\([0-9]*\)".*/\1/p' "$work/train.json")
  echo "config: $config  import + train $((SECONDS - start)) s  load: $(cut -d' ' -f1-3 /proc/loadavg)"
  "$bin/ann_agreement" --snapshot="$work/trainer/snapshots/$version" --queries=1 \
    --playlists=300 --k=10 | grep recommend
  kill "$trainer_pid"
  wait "$trainer_pid" 2>/dev/null || true
  rm -rf "$work"
done
