#!/usr/bin/python3
"""The prototype's method on the same data and queries as queryd, in the same run.

    build/bin/ann_agreement --snapshot=DIR --export=/tmp/export ...
    bench/prototype_compare.py --export=/tmp/export [--queries=200]
        [--load=search.json --load=recommend.json]

The prototype answered each request with scikit-learn's brute-force cosine
NearestNeighbors over the whole matrix, one request at a time. This script fits exactly
that (Debian's python3-sklearn and python3-numpy, hence /usr/bin/python3) on the vectors
ann_agreement exported from the served snapshot, sends it the same query vectors one by
one, and reports:
  - its time per query (the kneighbors call only: the prototype's vectorisation is not
    counted, which favours it);
  - recall@10 of the answers queryd's engine served (exported by ann_agreement) against
    scikit-learn's exact answer; a served result counts when its distance is within the
    exact 10th distance (ties at the 10th place are interchangeable);
  - the speed ratio: prototype time per query / served time per query in the engine, and,
    with --load (cratedig_load --json output of a run against queryd), queryd's
    throughput over gRPC / the prototype's one-at-a-time throughput.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
from sklearn.neighbors import NearestNeighbors


def load(path, dtype, width=None):
    a = np.fromfile(path, dtype=dtype)
    return a.reshape(-1, width) if width else a


def compare(d, meta, name, dim, queries, with_exclusion):
    k = meta["k"]
    rows = load(os.path.join(d, f"{name}_rows.f32"), np.float32, dim)
    labels = load(os.path.join(d, f"{name}_labels.i64"), np.int64)
    q = load(os.path.join(d, f"{name}_queries.f32"), np.float32, dim)
    served = load(os.path.join(d, f"{name}_served.i64"), np.int64, k)
    served_ms = load(os.path.join(d, f"{name}_served_ms.f64"), np.float64)
    excluded = (load(os.path.join(d, f"{name}_excluded.i64"), np.int64, 10)
                if with_exclusion else None)
    n = min(queries, len(q))
    start = time.perf_counter()
    model = NearestNeighbors(n_neighbors=k, metric="cosine", algorithm="brute").fit(rows)
    fit_s = time.perf_counter() - start

    agree = total = 0
    spent = 0.0
    for i in range(n):
        ex = [] if excluded is None else [x for x in excluded[i] if x >= 0]
        t0 = time.perf_counter()
        dist, idx = model.kneighbors(q[i:i + 1], n_neighbors=k + len(ex))
        spent += time.perf_counter() - t0
        exact = [(float(dd), int(labels[j])) for dd, j in zip(dist[0], idx[0])
                 if int(labels[j]) not in ex][:k]
        if not exact:
            continue
        kth = exact[-1][0]
        got = [x for x in served[i] if x >= 0]
        # Distances of the served labels, from the same matrix.
        pos = np.searchsorted(labels, got)
        served_dist = 1.0 - rows[pos] @ q[i] / (np.linalg.norm(q[i]) or 1.0)
        agree += int(np.sum(served_dist <= kth + 1e-5))
        total += len(exact)
    proto_ms = 1000.0 * spent / n
    engine_ms = float(np.mean(served_ms[:n]))
    return {
        "method": name,
        "vectors": int(len(rows)),
        "dim": dim,
        "queries": n,
        "prototype_fit_s": round(fit_s, 3),
        "prototype_ms_per_query": round(proto_ms, 3),
        "engine_ms_per_query": round(engine_ms, 4),
        "ratio_engine": round(proto_ms / engine_ms, 1) if engine_ms > 0 else None,
        "recall_at_10": round(agree / total, 4) if total else None,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--export", required=True, help="directory ann_agreement --export wrote")
    p.add_argument("--queries", type=int, default=200,
                   help="queries sent to the prototype per method")
    p.add_argument("--load", action="append", default=[],
                   help="cratedig_load --json output (one file per method) to compare "
                        "queryd's gRPC throughput with")
    a = p.parse_args()
    with open(os.path.join(a.export, "meta.json")) as f:
        meta = json.load(f)
    results = [
        compare(a.export, meta, "search", meta["search_dim"], a.queries, False),
        compare(a.export, meta, "recommend", meta["recommend_dim"], a.queries, True),
    ]
    loads = {}
    for path in a.load:
        with open(path) as f:
            for line in f:
                if line.strip().startswith("{"):
                    j = json.loads(line)
                    loads[j["method"]] = j
    for r in results:
        j = loads.get(r["method"])
        if j:
            proto_rate = 1000.0 / r["prototype_ms_per_query"]
            r["queryd_per_second"] = j["per_second"]
            r["queryd_p99_ms"] = j["p99_ms"]
            r["prototype_per_second"] = round(proto_rate, 2)
            r["ratio_queryd_grpc"] = round(j["per_second"] / proto_rate, 1)
    print(json.dumps({"snapshot": meta["snapshot"], "tracks": meta["tracks"],
                      "results": results}, indent=2))


if __name__ == "__main__":
    sys.exit(main())
