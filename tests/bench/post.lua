-- wrk script of the credstore benchmark (tests/bench/bench.sh).
--
-- One request kind, from the environment:
--   BENCH_METHOD  POST (default) or GET
--   BENCH_PATH    request path (default: the path of wrk's URL)
--   BENCH_TOKEN   sent as "Authorization: Bearer ..." when set
--   BENCH_BODY    JSON body for POST; every "{n}" in it becomes a value
--                 unique to the request (run, thread, counter), so each
--                 stored credential is a new one
--   BENCH_RUN     a run label that goes into "{n}" (default "r")
--   BENCH_IDEMPOTENCY  "1": every POST carries an Idempotency-Key unique
--                 to the request (run, thread, counter)
-- or several kinds taken in turn: BENCH_SPECS=K and BENCH_METHOD_1..K,
-- BENCH_PATH_1..K, BENCH_BODY_1..K (BENCH_TOKEN is shared).
--
-- done() prints one line for bench.sh to parse:
--   BENCH requests=.. duration_us=.. p50_us=.. p99_us=.. status_errors=..
--         connect=.. read=.. write=.. timeout=..

local run = os.getenv("BENCH_RUN") or "r"
local token = os.getenv("BENCH_TOKEN")
local nspecs = tonumber(os.getenv("BENCH_SPECS") or "0") or 0
local idem = os.getenv("BENCH_IDEMPOTENCY") == "1"

local function spec(suffix)
	local s = {
		method = os.getenv("BENCH_METHOD" .. suffix) or "POST",
		path = os.getenv("BENCH_PATH" .. suffix),
		body = os.getenv("BENCH_BODY" .. suffix),
	}
	s.headers = {}
	if token and token ~= "" then
		s.headers["Authorization"] = "Bearer " .. token
	end
	if s.method ~= "GET" and s.method ~= "HEAD" then
		s.headers["Content-Type"] = "application/json"
		s.body = s.body or "{}"
		-- split once at the placeholder; the request is then one concat
		local a, b = s.body:find("{n}", 1, true)
		if a then
			s.pre, s.post = s.body:sub(1, a - 1), s.body:sub(b + 1)
		end
		s.idem = idem
	else
		s.body = nil
	end
	return s
end

local specs = {}
if nspecs > 0 then
	for i = 1, nspecs do
		specs[i] = spec("_" .. i)
	end
else
	specs[1] = spec("")
	nspecs = 1
end

local threads = {}

function setup(thread)
	thread:set("tid", #threads + 1)
	table.insert(threads, thread)
end

local counter = 0

-- A fixed request (no placeholder, one kind) lets wrk build it once.
if nspecs == 1 and specs[1].pre == nil and not specs[1].idem then
	local s = specs[1]
	wrk.method = s.method
	if s.path then
		wrk.path = s.path
	end
	for k, v in pairs(s.headers) do
		wrk.headers[k] = v
	end
	wrk.body = s.body
else
	function request()
		counter = counter + 1
		local s = specs[(counter - 1) % nspecs + 1]
		local body = s.body
		local n = run .. "-" .. tostring(tid) .. "-" .. counter
		if s.pre then
			body = s.pre .. n .. s.post
		end
		if s.idem then
			s.headers["Idempotency-Key"] = "bench-" .. n
		end
		return wrk.format(s.method, s.path, s.headers, body)
	end
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("BENCH requests=%d duration_us=%d p50_us=%.0f " ..
	    "p99_us=%.0f status_errors=%d connect=%d read=%d write=%d " ..
	    "timeout=%d\n", summary.requests, summary.duration,
	    latency:percentile(50), latency:percentile(99), e.status,
	    e.connect, e.read, e.write, e.timeout))
end
