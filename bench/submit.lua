-- wrk script: POST /v1/inquiries with the valid body of bench/submit.json (no Idempotency-Key).
-- bench/submit_throughput.sh refuses the figure when any answer is not a 2xx.
local f = assert(io.open(os.getenv("SUBMIT_BODY") or "bench/submit.json", "r"))
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = f:read("*a")
f:close()
