#!/usr/bin/env python3
"""Checks deploy/ offline: the YAML parses, every daemon it starts is one of the built
binaries and every flag it passes is one that binary accepts (its --helpfull), the
Kubernetes probes use the gRPC health service, and `systemd-analyze verify` accepts the
units when systemd-analyze is installed.

Usage: deploy_files_test.py SOURCE_DIR BIN_DIR
"""
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

import yaml

DAEMONS = {"trainerd", "queryd", "ingestd", "cratedig"}
failures = []


def check_command(where, argv, bin_dir, flags_of):
    binary = os.path.basename(argv[0])
    if binary not in DAEMONS:
        failures.append(f"{where}: runs {argv[0]}, not a cratedig binary")
        return
    if binary not in flags_of:
        out = subprocess.run([os.path.join(bin_dir, binary), "--helpfull"],
                             capture_output=True, text=True, timeout=60)
        flags_of[binary] = set(re.findall(r"^\s+--(\w+)", out.stdout + out.stderr, re.M))
    for arg in argv[1:]:
        m = re.match(r"--(\w+)", arg)
        if m and m.group(1) not in flags_of[binary]:
            failures.append(f"{where}: {binary} has no flag --{m.group(1)}")


def main():
    source, bin_dir = sys.argv[1], os.path.abspath(sys.argv[2])
    deploy = os.path.join(source, "deploy")
    flags_of = {}

    units = sorted(f for f in os.listdir(os.path.join(deploy, "systemd"))
                   if f.endswith(".service"))
    if len(units) != 3:
        failures.append(f"expected three systemd units, found {units}")
    for unit in units:
        text = open(os.path.join(deploy, "systemd", unit)).read()
        for line in text.splitlines():
            if line.startswith("ExecStart="):
                check_command(unit, shlex.split(line[len("ExecStart="):]), bin_dir, flags_of)
        for needed in ("User=cratedig", "StateDirectory=", "Restart=", "NoNewPrivileges=yes",
                       "ProtectSystem=strict"):
            if needed not in text:
                failures.append(f"{unit}: no {needed}")
    analyze = shutil.which("systemd-analyze")
    if analyze:
        with tempfile.TemporaryDirectory() as tmp:
            # The units name /usr/bin/DAEMON: verify copies that point at the built ones.
            for unit in units:
                text = open(os.path.join(deploy, "systemd", unit)).read()
                text = re.sub(r"/usr/bin/(\w+)", lambda m: os.path.join(bin_dir, m.group(1)),
                              text)
                open(os.path.join(tmp, unit), "w").write(text)
            run = subprocess.run([analyze, "verify", "--man=no"] +
                                 [os.path.join(tmp, u) for u in units],
                                 capture_output=True, text=True, timeout=120)
            # Complaints about the host's own units do not count.
            for line in (run.stdout + run.stderr).splitlines():
                if any(u in line for u in units):
                    failures.append(f"systemd-analyze: {line}")
            if run.returncode != 0:
                failures.append(f"systemd-analyze verify exited {run.returncode}")

    compose = yaml.safe_load(open(os.path.join(deploy, "compose", "compose.yaml")))
    for name, service in compose["services"].items():
        check_command(f"compose {name}", service["command"], bin_dir, flags_of)

    docs = [d for d in yaml.safe_load_all(open(os.path.join(deploy, "kubernetes",
                                                            "cratedig.yaml"))) if d]
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    for wanted in [("StatefulSet", "trainerd"), ("Deployment", "ingestd"),
                   ("Deployment", "queryd"), ("Service", "queryd")]:
        if wanted not in kinds:
            failures.append(f"kubernetes: no {wanted[0]} {wanted[1]}")
    for d in docs:
        if d["kind"] == "Service" and d["metadata"]["name"] == "queryd":
            if d["spec"].get("clusterIP") != "None":
                failures.append("kubernetes: the queryd Service is not headless")
        if d["kind"] not in ("StatefulSet", "Deployment"):
            continue
        if d["kind"] == "StatefulSet" and not d["spec"].get("volumeClaimTemplates"):
            failures.append(f"kubernetes: StatefulSet {d['metadata']['name']} has no volume")
        if d["metadata"]["name"] == "queryd" and d["spec"]["replicas"] < 2:
            failures.append("kubernetes: queryd runs fewer than two replicas")
        for c in d["spec"]["template"]["spec"]["containers"]:
            where = f"kubernetes {d['metadata']['name']}"
            check_command(where, c["command"] + c.get("args", []), bin_dir, flags_of)
            if "grpc" not in c.get("readinessProbe", {}):
                failures.append(f"{where}: readiness is not a gRPC health probe")
            if "livenessProbe" not in c:
                failures.append(f"{where}: no liveness probe")

    dockerfile = open(os.path.join(deploy, "Dockerfile")).read()
    for line in dockerfile.splitlines():
        if line.startswith("FROM ") and not line.split()[1].startswith("debian:"):
            failures.append(f"Dockerfile: {line} is not a Debian image")
    if re.search(r"\b(curl|wget|pip|npm)\b", dockerfile):
        failures.append("Dockerfile downloads something besides Debian packages")

    for f in failures:
        print("FAIL", f)
    print(f"deploy files: {len(failures)} problems; flags checked for {sorted(flags_of)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
