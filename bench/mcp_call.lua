-- wrk script: one MCP tools/call per request over Streamable HTTP (a JSON or an SSE answer).
--
-- usage: wrk ... -s bench/mcp_call.lua URL -- TOOL [ARGUMENTS_JSON] [EXPECT] [SESSION_ID]
--   TOOL            tool name (default lago-list-all-customers)
--   ARGUMENTS_JSON  the tool's arguments, a JSON object (default {})
--   EXPECT          a string every good answer contains (default "lago_id"; "" for none)
--   SESSION_ID      an Mcp-Session-Id for servers that keep sessions ("" for none)
--
-- An answer is bad when its status is not 200, it is a JSON-RPC error, its result says
-- "isError": true, or it lacks EXPECT. Each thread counts its own answers (a wrk thread is
-- its own Lua state); done() sums them through the thread table and prints
--   good_responses N
--   bad_responses N   (bad_status N, jsonrpc_error N, is_error N, unexpected N)
-- bench/run.sh fails the run when bad_responses is not 0 (or good_responses is 0).
-- Each request carries its own JSON-RPC id: thread number * 1e9 + a per-thread counter.

local threads = {}
local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_no", next_thread)
  table.insert(threads, thread)
end

local tool, arguments, expect, session
good, bad_status, jsonrpc_error, is_error, unexpected = 0, 0, 0, 0, 0
local counter = 0

function init(args)
  tool = args[1] or "lago-list-all-customers"
  arguments = args[2] or "{}"
  if arguments == "" then arguments = "{}" end
  expect = args[3] or "lago_id"
  session = args[4] or ""
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json, text/event-stream"
  wrk.headers["MCP-Protocol-Version"] = "2025-06-18"
  if session ~= "" then wrk.headers["Mcp-Session-Id"] = session end
end

function request()
  counter = counter + 1
  local id = (thread_no or 0) * 1000000000 + counter
  local body = string.format(
    '{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"%s","arguments":%s}}',
    id, tool, arguments)
  return wrk.format(nil, nil, nil, body)
end

-- The first top-level member after "jsonrpc" and "id" decides: "error" before any "result"
-- is a JSON-RPC error (nested "error" keys inside a result come after its "result").
local function is_jsonrpc_error(body)
  local e = string.find(body, '"error"%s*:')
  if not e then return false end
  local r = string.find(body, '"result"%s*:')
  return r == nil or e < r
end

function response(status, headers, body)
  if status ~= 200 then
    bad_status = bad_status + 1
  elseif is_jsonrpc_error(body) then
    jsonrpc_error = jsonrpc_error + 1
  elseif string.find(body, '"isError"%s*:%s*true') then
    is_error = is_error + 1
  elseif expect ~= "" and not string.find(body, expect, 1, true) then
    unexpected = unexpected + 1
  else
    good = good + 1
  end
end

function done(summary, latency, requests)
  local g, s, j, i, u = 0, 0, 0, 0, 0
  for _, t in ipairs(threads) do
    g = g + (t:get("good") or 0)
    s = s + (t:get("bad_status") or 0)
    j = j + (t:get("jsonrpc_error") or 0)
    i = i + (t:get("is_error") or 0)
    u = u + (t:get("unexpected") or 0)
  end
  io.write(string.format("good_responses %d\n", g))
  io.write(string.format("bad_responses %d (bad_status %d, jsonrpc_error %d, is_error %d, unexpected %d)\n",
    s + j + i + u, s, j, i, u))
end
