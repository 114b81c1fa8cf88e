# Shared by the bench scripts (source it from the repository root, with $root set to it).

# Sets $target to the cargo target directory, absolute (a relative CARGO_TARGET_DIR is taken
# from $root), and exports it for the cargo commands the script runs.
use_target() {
  target=${CARGO_TARGET_DIR:-$root/target}
  case $target in /*) ;; *) target=$root/$target ;; esac
  export CARGO_TARGET_DIR=$target
}

# Sets $shared (NAFTIKO_SHARED, else ../shared beside the repository) and $examples, Lago's
# example bodies that the stub serves; exits 2 when they are not there.
use_examples() {
  shared=${NAFTIKO_SHARED:-$root/../shared}
  examples=$shared/lago/examples
  [ -f "$examples/customer.response.json" ] || { echo "error: no Lago examples in $examples (set NAFTIKO_SHARED)" >&2; exit 2; }
}

# Builds bench/minproxy's binaries (the stub, the yardsticks) with the workspace's lock file;
# arguments go to cargo (`--bin bench-lago-stub`).
build_minproxy() {
  cp "$root/Cargo.lock" "$root/bench/minproxy/Cargo.lock"
  (cd "$root/bench/minproxy" && cargo build -q --release "$@")
}

# Processes to kill when the script exits: add each one's pid to $pids.
pids=()
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }

# wrk output (with --latency, and bench/mcp_call.lua's done() lines when used) ->
#   "rps p50_ms p99_ms failed good"
# failed = socket errors (connect, read, write, timeout) + the script's bad answers (non-2xx
# included), or wrk's non-2xx count when no script checked answers;
# good = the script's good answers, or -1 when the run used no answer-checking script.
wrk_summary() {
  awk '
    /Requests\/sec/ {rps=$2}
    /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
    /Non-2xx/ {non2xx=$NF}
    /Socket errors/ { for (i = 3; i <= NF; i++) { v=$i; gsub(/,/, "", v); if (v ~ /^[0-9]+$/) sock+=v } }
    /^bad_responses/ {script_bad=$2}
    /^good_responses/ {good=$2; checked=1}
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    # The script counts non-2xx answers itself: add the wrk count only when no script checked.
    END { bad = sock + (checked ? script_bad : non2xx)
          printf "%.0f %.3f %.3f %d %d\n", rps, ms(p50), ms(p99), bad, (checked ? good : -1) }' "$1"
}

# Fails (status 1, with a message on stderr) when a wrk run had any failed request, or when
# it checked answers and found no good one.
check_run() {
  local what=$1 log=$2 rps p50 p99 bad good
  read -r rps p50 p99 bad good < <(wrk_summary "$log")
  if [ "$bad" -ne 0 ] || [ "$good" -eq 0 ]; then
    echo "FAILED: $what: $bad failed requests, $good good answers (wrk log $log):" >&2
    grep -E 'Non-2xx|Socket errors|_responses' "$log" >&2 || true
    return 1
  fi
}

# Waits (up to 60 s) until something listens on local port $1.
wait_port() { for _ in $(seq 1 3000); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.02; done; echo "port $1 never opened" >&2; return 1; }

# CPU time (user + system, clock ticks) of processes, summed.
ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t; }
