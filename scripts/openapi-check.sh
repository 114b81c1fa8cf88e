#!/usr/bin/env bash
# The OpenAPI document a REST adapter serves at /openapi.json, checked by outside tools:
# Spectral's `spectral:oas` ruleset lints it (errors fail), and Schemathesis tests the
# running sandbox service against it (no 5xx but 502/503/504, every answer as documented).
# Spectral comes from npm (npx), Schemathesis from PyPI into a venv under
# $CARGO_TARGET_DIR/openapi-check, both pinned. OPENAPI_EXAMPLES bounds the test cases per
# operation (default 100: under a minute of testing on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
dir=$CARGO_TARGET_DIR/openapi-check
spectral_version=6.16.3
schemathesis_version=4.32.5
examples=${OPENAPI_EXAMPLES:-100}
mkdir -p "$dir"

venv=$dir/venv
if [ "$("$venv/bin/schemathesis" --version 2>/dev/null | awk '{print $NF}')" != "$schemathesis_version" ]; then
  echo "== installing schemathesis $schemathesis_version"
  python3 -m venv "$venv" || { echo "error: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$schemathesis_version"
fi

echo "== building the service"
cargo build --quiet -p lago-customers -p naftiko-codegen
bin=$CARGO_TARGET_DIR/debug/lago-customers

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
rest=127.0.0.1:$(free_port)
mcp=127.0.0.1:$(free_port)
"$bin" serve --sandbox --rest-addr "$rest" --mcp-addr "$mcp" >"$dir/service.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
url=http://$rest

# The document, once the service answers.
python3 - "$url/openapi.json" "$dir/openapi.json" <<'PY'
import sys, time, urllib.request
for _ in range(200):
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
            open(sys.argv[2], "wb").write(r.read())
            sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit("error: the service did not serve " + sys.argv[1] + " (see service.log)")
PY
# Another spec's document too, from the CLI: query, header and body-field inputs.
cargo run --quiet -p naftiko-codegen -- openapi specs/bookshelf.yaml >"$dir/bookshelf.json"

echo "== spectral $spectral_version (spectral:oas)"
for doc in "$dir/openapi.json" "$dir/bookshelf.json"; do
  npx --yes "@stoplight/spectral-cli@$spectral_version" lint --fail-severity error \
    --ruleset scripts/openapi-check/ruleset.yaml "$doc"
done

echo "== schemathesis $schemathesis_version against the sandbox service at $url"
# Run from $dir: Schemathesis keeps a cache in `.schemathesis` of the working directory.
config=$PWD/scripts/openapi-check/schemathesis.toml
cd "$dir"
"$venv/bin/schemathesis" --config-file "$config" run "$url/openapi.json" \
  --url "$url" \
  --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
  --max-examples "$examples" --seed 42 --no-color --workers 1
# One worker: with two, its coverage phase failed inside Python's `ast` (a SystemError of
# CPython 3.11's parser under threads), not in the service.
