#!/usr/bin/env bash
# Builds the Dockerfile's image and runs it as a user would: `--sandbox` (the in-memory Lago
# stand-in, no key), ports published on loopback. Checks readiness on the control port, a
# REST call, MCP's tools/list, the user it runs as, and that `docker stop` ends it cleanly.
# Prints the image's size and the time from `docker run` to ready.
# usage: scripts/docker-check.sh [IMAGE]   (default: builds `lago-customers:check` from the
#   repository; give an image to check one built already). DOCKER_BUILD_ARGS: extra
#   `docker build` arguments (e.g. `--network host`).
# Exits 0 with a message, checking nothing, when no Docker engine answers (CI has none).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! docker info >/dev/null 2>&1; then
  echo "SKIPPED: no Docker engine answers (docker info failed); the image was not checked" >&2
  exit 0
fi
image=${1:-}
if [ -z "$image" ]; then
  image=lago-customers:check
  echo "== docker build -t $image ." >&2
  # shellcheck disable=SC2086
  docker build ${DOCKER_BUILD_ARGS:-} -t "$image" . >&2
fi
name=lago-customers-check-$$
cleanup() { docker rm -f "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT
fail() { echo "FAILED: $*" >&2; docker logs "$name" 2>&1 | tail -n 20 >&2 || true; exit 1; }

started=$(date +%s%N)
docker run -d --name "$name" -p 127.0.0.1::8080 -p 127.0.0.1::9090 -p 127.0.0.1::9100 \
  "$image" --sandbox >/dev/null
port() { docker port "$name" "$1/tcp" | head -n 1 | sed 's/.*://'; }
rest=http://127.0.0.1:$(port 8080) mcp=http://127.0.0.1:$(port 9090)/mcp control=http://127.0.0.1:$(port 9100)
ready=""
for _ in $(seq 1 500); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "$control/health/ready")" = 200 ]; then
    ready=$((($(date +%s%N) - started) / 1000000)); break
  fi
  sleep 0.02
done
[ -n "$ready" ] || fail "the container never became ready on the control port"

code=$(curl -s -o /tmp/docker-check-rest.json -w '%{http_code}' "$rest/v1/customers/demo-customer")
[ "$code" = 200 ] || fail "REST GET /v1/customers/demo-customer answered $code"
grep -q '"external_id"' /tmp/docker-check-rest.json || fail "REST answer has no customer"

tools=$(curl -s "$mcp" -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \
  -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}')
count=$(printf '%s' "$tools" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["result"]["tools"]))') \
  || fail "MCP tools/list answered: $tools"
[ "$count" -gt 0 ] || fail "MCP tools/list listed no tool"

uid=$(docker exec "$name" id -u)
[ "$uid" = 10001 ] || fail "the service runs as uid $uid, not 10001"
json_log=$(docker logs "$name" 2>&1 | head -n 1)
printf '%s' "$json_log" | python3 -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null \
  || fail "the first log line is not JSON: $json_log"

stop_started=$(date +%s%N)
docker stop -t 30 "$name" >/dev/null
stopped=$((($(date +%s%N) - stop_started) / 1000000))
status=$(docker inspect -f '{{.State.ExitCode}}' "$name")
[ "$status" = 0 ] || fail "the service exited with $status after docker stop"
size=$(docker image inspect -f '{{.Size}}' "$image")

echo "| Image | Size | Run to ready | REST | MCP tools | User | Log | docker stop |"
echo "|---|---|---|---|---|---|---|---|"
echo "| \`$image\` | $((size / 1024 / 1024)) MiB | $ready ms | 200 | $count | $uid | JSON | exit 0 in $stopped ms |"
