-- wrk script: POST /v1/inquiries with the valid body of bench/submit.json (no Idempotency-Key).
-- Counts the answers that are not 201 so that the shell script can refuse a figure made of errors.
local f = assert(io.open(os.getenv("SUBMIT_BODY") or "bench/submit.json", "r"))
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = f:read("*a")
f:close()
