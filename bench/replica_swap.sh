#!/usr/bin/env bash
# Snapshot publication to three query replicas, timed: one trainerd and three queryd on
# loopback serve CATALOG (default data/sample_tracks.csv.xz); then, while cratedig_load
# drives Search on replica 0 at a fixed rate, the trainer publishes a second snapshot.
# Prints the time from "snapshot published" (trainer log) to the last "snapshot swapped"
# (replica logs), and Search p50/p99 over 6 s without a swap and over the 5 s after the
# publish (the replicas fetch, load and swap in that window).
#   flock /tmp/cratedig-bench.lock bench/replica_swap.sh [CATALOG]
# Env: BUILD (default build), RATE (Search requests/s, default 500).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=${BUILD:-build}/bin
catalog=${1:-data/sample_tracks.csv.xz}
rate=${RATE:-500}
work=$(mktemp -d /tmp/cratedig-replica-swap.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait; rm -rf "$work"; }
trap cleanup EXIT

listening() {  # file: waits for the daemon's "listening on" line, prints the address
  for _ in $(seq 300); do grep -q '^listening on' "$1" 2>/dev/null && break; sleep 0.1; done
  sed -n 's/^listening on //p' "$1"
}
"$bin/trainerd" --listen=127.0.0.1:0 --data_dir="$work/trainer" --train_debounce=0 \
  >"$work/trainerd.out" 2>"$work/trainerd.log" & pids+=($!)
trainer=$(listening "$work/trainerd.out")
replicas=()
for i in 0 1 2; do
  "$bin/queryd" --listen=127.0.0.1:0 --trainer="$trainer" --data_dir="$work/query$i" \
    >"$work/queryd$i.out" 2>"$work/queryd$i.log" & pids+=($!)
  replicas+=("$(listening "$work/queryd$i.out")")
done
cli() { "$bin/cratedig" --trainer="$trainer" --timeout=1800 "$@"; }
serving() {  # version: waits until all three replicas serve it
  for r in "${replicas[@]}"; do
    until cli --server="$r" --json status 2>/dev/null | grep -q "\"snapshot\":\"$1\""; do
      sleep 0.05
    done
  done
}
cli import "$catalog" >/dev/null 2>"$work/import.err"
cli train
serving 000001
load() {  # seconds: Search on replica 0 at $rate/s, JSON report
  "$bin/cratedig_load" --target="${replicas[0]}" --snapshot="$work/query0/snapshots/000001" \
    --method=search --rate="$rate" --duration="$1s" --json
}
load 2 >/dev/null || true  # Warm-up.
steady=$(load 6 || true)  # cratedig_load exits 3 when requests failed; they are listed.
# The build competes with the replicas for this host's cores: the load starts once the
# trainer has published, so that it measures the fetch, load and swap on the replicas.
cli train >"$work/train.out" & trainer_job=$!
until cli --json status trainer 2>/dev/null | grep -q '"snapshot":"000002"'; do sleep 0.02; done
load 5 >"$work/swap.json" || true
serving 000002
wait "$trainer_job"
python3 - "$work" "$steady" <<'PY'
import datetime, json, re, sys
work, steady = sys.argv[1], json.loads(sys.argv[2])
swap = json.load(open(work + "/swap.json"))
def stamp(path, pattern):
    for line in open(path):
        if re.search(pattern, line):
            return datetime.datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ")
published = stamp(work + "/trainerd.log", r"snapshot published version=000002")
swapped = [stamp(f"{work}/queryd{i}.log", r"snapshot swapped version=000002") for i in range(3)]
ms = lambda d: d.total_seconds() * 1000
print(f"publish -> each replica serving (ms): {[round(ms(s - published)) for s in swapped]}; "
      f"all three: {round(ms(max(swapped) - published))} ms")
def summary(name, r):
    keys = {k: v for k, v in r.items() if k in ("ok", "errors", "per_second", "p50_ms",
                                                 "p99_ms", "p999_ms", "max_ms")}
    print(name, json.dumps(keys, sort_keys=True))
summary("steady:", steady)
summary("across the swap:", swap)
PY
