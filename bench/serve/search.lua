-- wrk script for bench/serve: GET requests over a fixed list of queries
-- (PATH set: one fixed path instead, for the static file). Prints one
-- line: label, requests/s, p50/p90/p99/max latency in ms, errors.
local queries = {"love", "night", "blue moon", "dance", "rain", "summer",
                 "heart", "fire", "dream", "road", "star", "gold"}
local i = 0
local fixed = os.getenv("PATH_FIXED")
local label = os.getenv("LABEL") or "serve"
local k = os.getenv("K") or "10"

request = function()
        if fixed then
                return wrk.format("GET", fixed)
        end
        i = i + 1
        local q = queries[(i % #queries) + 1]:gsub(" ", "+")
        return wrk.format("GET", "/v1/search?q=" .. q .. "&k=" .. k ..
                          "&user=bench-" .. (i % 1000))
end

done = function(summary, latency, requests)
        local errs = summary.errors.connect + summary.errors.read +
                     summary.errors.write + summary.errors.timeout +
                     summary.errors.status
        io.write(string.format(
            "%s rps=%.0f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
            "requests=%d errors=%d\n", label,
            summary.requests / (summary.duration / 1e6),
            latency:percentile(50) / 1e3, latency:percentile(90) / 1e3,
            latency:percentile(99) / 1e3, latency.max / 1e3,
            summary.requests, errs))
end
