-- wrk script: one MCP tools/call per request (stateless Streamable HTTP, JSON response).
wrk.method = "POST"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"lago-list-all-customers","arguments":{}}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2025-06-18"

errors = 0
response = function(status, headers, body)
  if status ~= 200 or not string.find(body, '"customers"', 1, true) or string.find(body, '"isError":true', 1, true) then
    errors = errors + 1
  end
end

done = function(summary, latency, requests)
  io.write(string.format("bad_responses %d\n", errors))
end
