-- wrk: sign-ups to skill shares, every request a write. Each connection takes one member at a
-- time: POST /api/v1/skill-shares/{id}/signups (201: a place, or the waitlist once the places are
-- taken), then DELETE .../signups/me (204: the place is given up, and the first on the waitlist
-- moves up in the same transaction), then the next of its members.
-- SLOT: the slot's id; or SLOTS, a comma list, to spread the members over several slots (a member
-- leaves the slot they signed up for).
-- TOKENS: a file of member access tokens, one a line (tests/load/seed.py).
-- THREADS: the number of wrk threads. Run with one connection per thread (wrk -tN -cN, THREADS=N):
-- a thread's request() serves all of its connections, so only then does each member's DELETE
-- follow the answer to their POST. Thread k of N takes the tokens on lines k, k+N, k+2N, ...
-- Prints how the requests were answered; anything but 201/204 is reported with its first body.
local slots = {}
for slot in string.gmatch(os.getenv("SLOTS") or os.getenv("SLOT") or "", "[^,%s]+") do slots[#slots + 1] = slot end
assert(#slots > 0, "set SLOT (or SLOTS) to a skill share's id")
local tokens = {}
local tokens_file = assert(os.getenv("TOKENS"), "set TOKENS to a file of access tokens")
for line in io.lines(tokens_file) do
  if line ~= "" then tokens[#tokens + 1] = line end
end
local threads = tonumber(os.getenv("THREADS") or "")
assert(threads and threads >= 1, "set THREADS to wrk's thread count (-t)")

local all = {}
local started = 0
function setup(thread)
  started = started + 1
  thread:set("id", started) -- each wrk thread its own members
  all[started] = thread
end

local mine, n = {}, 0
created, left, other, first_other = 0, 0, 0, nil
function init(args)
  assert(id <= threads, "more wrk threads than THREADS")
  for k = id, #tokens, threads do mine[#mine + 1] = tokens[k] end
  assert(#mine > 0, "fewer tokens than threads")
end

function request()
  local turn = math.floor(n / 2) -- the member's turn: a POST, then a DELETE
  local token = mine[turn % #mine + 1]
  local slot = slots[(turn + id) % #slots + 1]
  local headers = { ["Authorization"] = "Bearer " .. token, ["Content-Length"] = "0" }
  n = n + 1
  if n % 2 == 1 then
    return wrk.format("POST", "/api/v1/skill-shares/" .. slot .. "/signups", headers)
  end
  return wrk.format("DELETE", "/api/v1/skill-shares/" .. slot .. "/signups/me", headers)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  elseif status == 204 then
    left = left + 1
  else
    other = other + 1
    if not first_other then first_other = status .. " " .. body end
  end
end

function done(summary, latency, requests)
  local c, l, o, firsts = 0, 0, 0, {}
  for _, thread in ipairs(all) do
    c, l, o = c + thread:get("created"), l + thread:get("left"), o + thread:get("other")
    local first = thread:get("first_other")
    if first then firsts[#firsts + 1] = first end
  end
  io.write(string.format("Sign-ups: %d answered 201, %d answered 204, %d answered otherwise\n", c, l, o))
  for _, first in ipairs(firsts) do io.write("  first other answer: " .. first .. "\n") end
end
