#!/usr/bin/env bash
# Offline check of the Dockerfile and deploy/ (see scripts/deploy-check.py): the rendered
# manifests against the Kubernetes schemas, their cross-references, and the real binary
# started with their flags. Needs python3 with venv; installs kubernetes-validate and PyYAML.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
venv=$CARGO_TARGET_DIR/deploy-check/venv
validate_version=1.37.0
if [ "$("$venv/bin/kubernetes-validate" --version 2>/dev/null)" != "$validate_version" ]; then
  echo "== installing kubernetes-validate $validate_version"
  python3 -m venv "$venv" || { echo "error: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
  "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$validate_version" "PyYAML>=6"
fi
cargo build --quiet -p lago-customers
PATH=$venv/bin:$PATH "$venv/bin/python" scripts/deploy-check.py "$CARGO_TARGET_DIR/debug/lago-customers"
