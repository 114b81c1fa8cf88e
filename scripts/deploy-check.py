#!/usr/bin/env python3
"""Offline check of the container and Kubernetes files (no cluster, no Docker engine).

1. Renders deploy/ as `kubectl kustomize` would for what kustomization.yaml uses (resources,
   labels with includeSelectors, images) and checks every object against the Kubernetes
   schemas (kubernetes-validate, strict: unknown fields are errors).
2. Checks that the pieces agree: the Service selects the pods, the probes and the Service
   name container ports, the API key comes from the Secret, the HPA scales the Deployment.
3. Starts the real binary with the Dockerfile's ENTRYPOINT and the Deployment's args (on
   free loopback ports, against the sandbox) and waits for the readiness probe's path to
   answer 200 on the control port, so that the flags in the files are flags the binary takes.

Usage: scripts/deploy-check.py BINARY
"""
import json
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

root = Path(__file__).resolve().parent.parent
deploy = root / "deploy"
errors = []


def fail(msg):
    errors.append(msg)
    print(f"FAIL {msg}")


kust = yaml.safe_load((deploy / "kustomization.yaml").read_text())
objects = []
for res in kust["resources"]:
    for doc in yaml.safe_load_all((deploy / res).read_text()):
        if doc:
            objects.append(doc)
for entry in kust.get("labels", []):
    for obj in objects:
        obj.setdefault("metadata", {}).setdefault("labels", {}).update(entry["pairs"])
        if entry.get("includeSelectors"):
            spec = obj.get("spec", {})
            if obj["kind"] == "Deployment":
                spec["selector"]["matchLabels"].update(entry["pairs"])
                spec["template"]["metadata"]["labels"].update(entry["pairs"])
            if obj["kind"] == "Service":
                spec["selector"].update(entry["pairs"])
for image in kust.get("images", []):
    for obj in objects:
        if obj["kind"] == "Deployment":
            for c in obj["spec"]["template"]["spec"]["containers"]:
                if c["image"] == image["name"]:
                    c["image"] = f"{image['newName']}:{image['newTag']}"

by_kind = {}
for obj in objects:
    by_kind.setdefault(obj["kind"], []).append(obj)
for kind in ["Deployment", "Service", "HorizontalPodAutoscaler", "Secret"]:
    if len(by_kind.get(kind, [])) != 1:
        fail(f"expected one {kind}, found {len(by_kind.get(kind, []))}")
dep, svc, hpa, secret = (by_kind[k][0] for k in ["Deployment", "Service", "HorizontalPodAutoscaler", "Secret"])

with tempfile.TemporaryDirectory() as tmp:
    rendered = Path(tmp) / "rendered.yaml"
    rendered.write_text(yaml.safe_dump_all(objects, sort_keys=False))
    r = subprocess.run(["kubernetes-validate", "--strict", "-k", "1.30.0", str(rendered)],
                       capture_output=True, text=True)
    print(r.stdout + r.stderr, end="")
    if r.returncode != 0:
        fail("kubernetes-validate rejected the rendered manifests")

pod = dep["spec"]["template"]
labels = pod["metadata"]["labels"]
if not all(labels.get(k) == v for k, v in svc["spec"]["selector"].items()):
    fail(f"the Service selector {svc['spec']['selector']} does not select the pods {labels}")
if dep["spec"]["selector"]["matchLabels"].items() - labels.items():
    fail("the Deployment's selector does not match its pod template")
container = pod["spec"]["containers"][0]
ports = {p["name"]: p["containerPort"] for p in container["ports"]}
for probe in ["livenessProbe", "readinessProbe"]:
    port = container[probe]["httpGet"]["port"]
    if port not in ports:
        fail(f"{probe} names port {port!r}, which the container does not declare")
for p in svc["spec"]["ports"]:
    if p["targetPort"] not in ports:
        fail(f"the Service targets port {p['targetPort']!r}, which the container does not declare")
keys = [e for e in container.get("env", []) if e["name"] == "LAGO_API_KEY"]
ref = keys[0]["valueFrom"]["secretKeyRef"] if keys else None
if not ref or ref["name"] != secret["metadata"]["name"] or ref["key"] not in secret.get("stringData", {}):
    fail("LAGO_API_KEY does not come from the Secret's key")
target = hpa["spec"]["scaleTargetRef"]
if (target["kind"], target["name"]) != ("Deployment", dep["metadata"]["name"]):
    fail("the HPA does not scale the Deployment")
if hpa["spec"]["minReplicas"] < 2:
    fail("the HPA lets the service run a single replica")

# The Dockerfile's ENTRYPOINT and the Deployment's args, run for real.
dockerfile = (root / "Dockerfile").read_text()
m = re.search(r"^ENTRYPOINT (\[.*?\])\s*$", dockerfile.replace("\\\n", ""), re.M | re.S)
entry = json.loads(m.group(1))
exposed = re.search(r"^EXPOSE (.*)$", dockerfile, re.M).group(1).split()
for name, port in ports.items():
    if str(port) not in exposed:
        fail(f"container port {name} ({port}) is not EXPOSEd by the Dockerfile")


def free():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


remap = {str(p): str(free()) for p in ports.values()}
args = [re.sub(r"0\.0\.0\.0:(\d+)", lambda m: f"127.0.0.1:{remap.get(m.group(1), m.group(1))}", a)
        for a in entry[1:] + container.get("args", [])]
control = next(a for a in args if a.startswith("127.0.0.1:") and args[args.index(a) - 1] == "--control-addr")
proc = subprocess.Popen([sys.argv[1]] + args + ["--sandbox"], stderr=subprocess.PIPE, text=True)
ready = None
try:
    path = container["readinessProbe"]["httpGet"]["path"]
    for _ in range(100):
        try:
            ready = urllib.request.urlopen(f"http://{control}{path}", timeout=1).status
            break
        except Exception:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
finally:
    proc.terminate()
    _, stderr = proc.communicate(timeout=30)
if ready != 200:
    fail(f"the binary did not become ready with the files' flags {args}:\n{stderr}")
else:
    print(f"PASS the binary serves with the Dockerfile's and Deployment's flags ({' '.join(args)})")

if errors:
    sys.exit(f"{len(errors)} problem(s) in Dockerfile/deploy")
print("PASS Dockerfile and deploy/ agree with each other, the Kubernetes schemas and the binary")
