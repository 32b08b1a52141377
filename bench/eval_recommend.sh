#!/usr/bin/env bash
# Playlist continuation on tidytuesday's playlists, end to end through the real daemons:
# splits the playlists into training and held-out ones (fixed seed), imports the catalog,
# Spotify's artist genres and the training playlists into a fresh trainerd with
# `cratedig import`, then for each configuration restarts trainerd with its flags, trains,
# waits until queryd serves the new snapshot and runs bench/eval_recommend on the held-out
# playlists. Prints the markdown table of docs/recommend-quality.md.
#
# Distractors: the catalog also gets the tracks of the other track catalogs in ../shared/data
# (Spotify Hit Predictor, 41k tracks; the maharshipandya 10k sample), which are in no
# playlist. Without them every catalog track in no training playlist is a held-out
# playlist's track, and a recommender that favours tracks lacking playlist evidence would
# look better than it is.
#
#   bench/eval_recommend.sh [BUILD_DIR]     (default: build)
#   SEED=7 bench/eval_recommend.sh          another split
#   DISTRACTORS=0 bench/eval_recommend.sh   the tidytuesday tracks alone
#   CONFIGS="name|trainer flags|strategy ..." bench/eval_recommend.sh   other configurations
#   FOLDS=5 bench/eval_recommend.sh         cross-validation: every eligible playlist held out
#                                           once, in 5 runs; prints the rows pooled over them
#                                           (means weighted by each fold's playlists)
set -euo pipefail
self=$(readlink -f "$0")
cd "$(dirname "$self")/.."
build=${1:-build}

if [[ -n ${FOLDS:-} && -z ${FOLD:-} ]]; then
  if ! [[ $FOLDS =~ ^[0-9]+$ ]] || ((FOLDS < 2)); then
    echo "eval_recommend: FOLDS must be a number of folds, 2 or more (got '$FOLDS')" >&2
    exit 2
  fi
  rows=$(mktemp)
  for ((fold = 0; fold < FOLDS; fold++)); do
    if [[ -n ${WORK_DIR:-} ]]; then
      FOLD=$fold WORK_DIR="$WORK_DIR/fold-$fold" "$self" "$build" >>"$rows"
    else
      FOLD=$fold "$self" "$build" >>"$rows"
    fi
  done
  python3 bench/pool_folds.py <"$rows"
  rm -f "$rows"
  exit 0
fi
bin=$build/bin
shared=../shared/data
songs=$shared/tidytuesday_spotify_songs_2020-01-21.csv.xz
genres=$shared/yamaerenay160k_artist_genres_2021.csv.xz
[[ -f $songs ]] || { echo "eval_recommend: $songs is absent; nothing to measure" >&2; exit 0; }

work=${WORK_DIR:-$(mktemp -d)}
mkdir -p "$work"
trainer_pid=""
query_pid=""
cleanup() {
  [[ -n $query_pid ]] && kill "$query_pid" 2>/dev/null || true
  [[ -n $trainer_pid ]] && kill "$trainer_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  [[ -n ${WORK_DIR:-} ]] || rm -rf "$work"
}
trap cleanup EXIT

split_args=(--seed="${SEED:-2018}")
[[ -n ${FOLD:-} ]] && split_args+=(--folds="$FOLDS" --fold="$FOLD")
python3 bench/split_playlists.py "$songs" "$work/split" "${split_args[@]}" >&2

# Starts trainerd with the given flags on the same data directory; sets trainer_addr.
start_trainer() {
  if [[ -n $trainer_pid ]]; then kill "$trainer_pid"; wait "$trainer_pid" || true; fi
  : >"$work/trainerd.out"
  "$bin/trainerd" --listen=127.0.0.1:0 --data_dir="$work/trainer" "$@" \
    >"$work/trainerd.out" 2>>"$work/trainerd.log" &
  trainer_pid=$!
  for _ in $(seq 100); do grep -q '^listening on' "$work/trainerd.out" && break; sleep 0.1; done
  trainer_addr=$(sed -n 's/^listening on //p' "$work/trainerd.out")
}

start_trainer
if [[ ${DISTRACTORS:-1} != 0 ]]; then
  # Imported first, so that a track also in tidytuesday keeps tidytuesday's row.
  "$bin/cratedig" import --trainer="$trainer_addr" "$shared"/hit_predictor_dataset-of-*.csv.xz \
    "$shared/spotify_tracks_maharshipandya_sample10k.csv.xz" >&2
fi
"$bin/cratedig" import --trainer="$trainer_addr" "$work/split/catalog.csv" "$genres" \
  "$work/split/train.json" >&2

# A configuration: label | trainerd flags | Recommend strategies (comma-separated; empty:
# the server's default) | max_per_artist (empty: the server's default; 0: none, as the
# prototype had).
default_configs=(
  "prototype features|--prototype_features --cooccurrence_blend=0|centroid|0"
  "weighted one-hot, content only|--genre_representation=weighted_onehot --cooccurrence_blend=0|centroid,rrf|"
  "co-occurrence 0.8, unit fallback (earlier design)|--genre_representation=weighted_onehot --cooccurrence_blend=0.8 --cooccurrence_unit_fallback|centroid,rrf|"
  "co-occurrence 0.5|--genre_representation=weighted_onehot --cooccurrence_blend=0.5|blend,centroid,rrf,best|"
  "co-occurrence 0.8|--genre_representation=weighted_onehot --cooccurrence_blend=0.8|centroid,rrf,best|"
  "trainer and server defaults|||"
)
if [[ -n ${CONFIGS:-} ]]; then IFS=$'\n' read -r -d '' -a configs <<<"$CONFIGS" || true
else configs=("${default_configs[@]}"); fi

echo "| configuration | seeds | playlists | R-precision | NDCG | clicks | Recall@100 | unplaylisted@100 |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
"$bin/eval_recommend" --popular --train="$work/split/train.json" \
  --heldout="$work/split/heldout.json" --label="most popular (baseline)"

for config in "${configs[@]}"; do
  IFS='|' read -r label flags strategies per_artist <<<"$config"
  # shellcheck disable=SC2086
  start_trainer $flags
  "$bin/cratedig" train --trainer="$trainer_addr" --json >"$work/train.out"
  version=$(sed -n 's/.*"snapshot":"\([0-9]*\)".*/\1/p' "$work/train.out")
  if [[ -z $query_pid ]]; then
    : >"$work/queryd.out"
    "$bin/queryd" --listen=127.0.0.1:0 --trainer="$trainer_addr" --data_dir="$work/query" \
      >"$work/queryd.out" 2>"$work/queryd.log" &
    query_pid=$!
    for _ in $(seq 100); do grep -q '^listening on' "$work/queryd.out" && break; sleep 0.1; done
    query_addr=$(sed -n 's/^listening on //p' "$work/queryd.out")
  else
    # queryd follows the trainer it was started with; restart it on the new address.
    kill "$query_pid"; wait "$query_pid" || true
    : >"$work/queryd.out"
    "$bin/queryd" --listen=127.0.0.1:0 --trainer="$trainer_addr" --data_dir="$work/query" \
      >"$work/queryd.out" 2>>"$work/queryd.log" &
    query_pid=$!
    for _ in $(seq 100); do grep -q '^listening on' "$work/queryd.out" && break; sleep 0.1; done
    query_addr=$(sed -n 's/^listening on //p' "$work/queryd.out")
  fi
  for _ in $(seq 600); do
    "$bin/cratedig" status --server="$query_addr" --json 2>/dev/null | grep -q "\"$version\"" && break
    sleep 0.1
  done
  IFS=',' read -r -a names <<<"${strategies:-}"
  [[ ${#names[@]} -eq 0 ]] && names=("")
  for strategy in "${names[@]}"; do
    args=(--server="$query_addr" --heldout="$work/split/heldout.json" --train="$work/split/train.json")
    if [[ -n $strategy ]]; then
      args+=(--strategy="$strategy" --label="$label, $strategy")
    else
      args+=(--label="$label, default strategy")
    fi
    [[ -n $per_artist ]] && args+=(--max_per_artist="$per_artist")
    "$bin/eval_recommend" "${args[@]}"
  done
done
