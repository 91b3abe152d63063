-- wrk: POST a check-in; with KEYED=1 each request carries a fresh Idempotency-Key (the phone's
-- offline queue), so the handler runs in the held transaction that also saves its answer.
local token, keyed = os.getenv("TOKEN"), os.getenv("KEYED") == "1"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads) -- each wrk thread its own keys
end
local n, run = 0, os.time()
function request()
  n = n + 1
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
  if keyed then headers["Idempotency-Key"] = string.format("load-%d-%d-%d", run, id, n) end
  return wrk.format("POST", nil, headers, '{"done":"load"}')
end
