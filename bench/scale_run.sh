#!/usr/bin/env bash
# One measured run of the whole system over a catalog: import, train, load in queryd,
# gRPC load on Search / Recommend / GetTracks, agreement with the exact answer and the
# prototype's scikit-learn brute force on the same vectors and queries.
#
#   bench/scale_run.sh BUILD_DIR CATALOG_DIR [WORK_DIR]
#
# CATALOG_DIR holds CSV files for `cratedig import` (e.g. bench/gen_catalog.py's
# artists.csv and tracks_features.csv; artists are imported first). Environment:
#   TRAINER_FLAGS   extra trainerd flags (e.g. "--build_threads=2 --ef_construction=64")
#   LOAD_SECONDS    measured seconds per gRPC load run (default 10)
#   LOAD_FLAGS      extra cratedig_load flags (default "--connections=4 --concurrency=32")
#   QUERIES         ann_agreement queries and playlists (default 2000)
#   PROTO_QUERIES   queries sent to the prototype per method (default 200)
#   SKIP_PROTOTYPE  set to skip ann_agreement and the prototype
#   SKIP_IMPORT     set to train what an earlier run left in WORK_DIR/trainer (other
#                   trainer flags on the same catalog) instead of importing CATALOG_DIR
#   TRAIN_TIMEOUT   seconds `cratedig train` waits (default 14400: a 10M build takes about
#                   an hour on 2 cores, and a deadline that passes cancels the build)
# Prints every figure docs/benchmarks.md quotes, with the machine's load average, and
# leaves the logs, /usr/bin/time reports and JSON outputs in WORK_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: scale_run.sh BUILD_DIR CATALOG_DIR [WORK_DIR]}
catalog=${2:?usage: scale_run.sh BUILD_DIR CATALOG_DIR [WORK_DIR]}
work=${3:-$(mktemp -d)}
bin=$build/bin
mkdir -p "$work"
pids=()
# Each daemon runs under /usr/bin/time, which does not pass signals on: stop the daemon
# (time's child) and let time write its report.
stop() {
  for p in "$@"; do
    kill $(pgrep -P "$p") 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
cleanup() { stop "${pids[@]}"; }
trap cleanup EXIT

ms() { echo $((($2 - $1) / 1000000)); }
now() { date +%s%N; }
listening() {  # file: waits for the daemon's "listening on" line, prints the address
  for _ in $(seq 600); do
    grep -q '^listening on' "$1" 2>/dev/null && break
    sleep 0.1
  done
  sed -n 's/^listening on //p' "$1"
}
peak() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }

echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)," \
  "$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
echo "load before: $(uptime)"

# shellcheck disable=SC2086
/usr/bin/time -v -o "$work/trainerd.time" "$bin/trainerd" --listen=127.0.0.1:0 \
  --data_dir="$work/trainer" --train_debounce=0 ${TRAINER_FLAGS:-} >"$work/trainerd.out" 2>"$work/trainerd.log" &
pids+=($!)
trainer=$(listening "$work/trainerd.out")

files=()
[[ -f $catalog/artists.csv ]] && files+=("$catalog/artists.csv")
for f in "$catalog"/*.csv*; do
  [[ $f == "$catalog/artists.csv" ]] || files+=("$f")
done
t0=$(now)
if [[ -z ${SKIP_IMPORT:-} ]]; then
  /usr/bin/time -v -o "$work/import.time" "$bin/cratedig" import --trainer="$trainer" \
    "${files[@]}" >"$work/import.out" 2>"$work/import.log"
else
  echo "import skipped: WORK_DIR/trainer holds it" >"$work/import.out"
  echo "Maximum resident set size (kbytes): 0" >"$work/import.time"
fi
t1=$(now)
"$bin/cratedig" train --trainer="$trainer" --json --timeout="${TRAIN_TIMEOUT:-14400}" \
  >"$work/train.json"
t2=$(now)
version=$(sed -n 's/.*"snapshot":"\([0-9]*\)".*/\1/p' "$work/train.json")
snapshot=$work/trainer/snapshots/$version
echo "import: $(ms "$t0" "$t1") ms  ($(head -1 "$work/import.out"))"
echo "train:  $(ms "$t1" "$t2") ms  $(cat "$work/train.json")"
grep 'snapshot published' "$work/trainerd.log" | sed 's/.*INFO //'
echo "snapshot files: $(du -sh "$snapshot" | cut -f1) ($(ls -l "$snapshot" | awk 'NR>1 {printf "%s %d MB; ", $9, $5/1048576}'))"
echo "load after train: $(uptime)"

# queryd fetches the snapshot from the trainer, then loads it.
/usr/bin/time -v -o "$work/queryd.time" "$bin/queryd" --listen=127.0.0.1:0 \
  --trainer="$trainer" --data_dir="$work/query" >"$work/queryd.out" 2>"$work/queryd.log" &
qpid=$!
pids+=($qpid)
query=$(listening "$work/queryd.out")
for _ in $(seq 3000); do
  grep -q 'snapshot swapped' "$work/queryd.log" && break
  sleep 0.1
done
grep 'snapshot' "$work/queryd.log" | sed 's/.*INFO //' | tail -2
rss() { awk '/VmRSS/ {printf "%.0f MB", $2/1024}' "/proc/$(pgrep -P "$1")/status"; }
echo "queryd resident after load: $(rss "$qpid")"

load_secs=${LOAD_SECONDS:-10}
for method in search recommend get_tracks; do
  echo "load before $method: $(uptime)"
  # shellcheck disable=SC2086
  "$bin/cratedig_load" --target="$query" --snapshot="$snapshot" --method=$method \
    --duration="${load_secs}s" ${LOAD_FLAGS:---connections=4 --concurrency=32} --json \
    >"$work/load_$method.json" || true
  cat "$work/load_$method.json"
done
echo "queryd resident after load runs: $(rss "$qpid")"

if [[ -z ${SKIP_PROTOTYPE:-} ]]; then
  q=${QUERIES:-2000}
  "$bin/ann_agreement" --snapshot="$snapshot" --queries="$q" --playlists="$q" --k=10 \
    --export="$work/export" | tee "$work/agreement.out"
  echo "load before prototype: $(uptime)"
  bench/prototype_compare.py --export="$work/export" --queries="${PROTO_QUERIES:-200}" \
    --load="$work/load_search.json" --load="$work/load_recommend.json" \
    | tee "$work/prototype.json"
  rm -rf "$work/export"
fi

stop "$qpid" "${pids[0]}"
pids=()
echo "peak RSS: trainerd $(($(peak "$work/trainerd.time") / 1024)) MB," \
  "cratedig import $(($(peak "$work/import.time") / 1024)) MB," \
  "queryd $(($(peak "$work/queryd.time") / 1024)) MB"
echo "load after: $(uptime)"
