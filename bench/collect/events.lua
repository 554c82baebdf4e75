-- wrk script: POST /v1/events with a batch of BATCH events (env), the
-- dev key from LTRR_API_KEY; counts non-202 answers and reports the
-- events/s and latency percentiles.
local batch = tonumber(os.getenv("BATCH") or "1")
local key = os.getenv("LTRR_API_KEY") or ""
local types = {"click", "play", "like", "add_to_playlist", "share", "skip"}
local counter = 0
local bad = 0

local function event(i)
        return string.format(
                '{"impression_id":"%032x","user_id":"user-%d",' ..
                '"entity_id":"ent-%d","position":%d,"type":"%s",' ..
                '"duration_ms":%d}',
                i, i % 100000, i % 5000, i % 20, types[i % 6 + 1], i % 60000)
end

function init(args)
        wrk.method = "POST"
        wrk.headers["Content-Type"] = "application/json"
        wrk.headers["Authorization"] = "Bearer " .. key
end

function request()
        local parts = {}
        for j = 1, batch do
                counter = counter + 1
                parts[j] = event(counter)
        end
        return wrk.format(nil, "/v1/events", nil,
                          "[" .. table.concat(parts, ",") .. "]")
end

function response(status, headers, body)
        if status ~= 202 then
                bad = bad + 1
        end
end

function done(summary, latency, requests)
        local secs = summary.duration / 1e6
        io.write(string.format(
                "batch=%d requests=%d events_per_s=%.0f req_per_s=%.0f " ..
                "p50_ms=%.2f p99_ms=%.2f errors=%d\n",
                batch, summary.requests, summary.requests * batch / secs,
                summary.requests / secs, latency:percentile(50) / 1000,
                latency:percentile(99) / 1000,
                summary.errors.status + summary.errors.connect +
                summary.errors.read + summary.errors.write +
                summary.errors.timeout))
end
