-- wrk script for bench/serve: GET requests over a list of queries in the
-- synthetic catalog's vocabulary (one and two words, names, prefixes,
-- accented and non-Latin words, a miss), k mostly 10, users spread over
-- 1000 ids (PATH_FIXED set: one fixed path instead, for the static file).
-- Prints one line: label, requests/s, p50/p90/p99/max latency in ms,
-- requests and errors.
local queries = {"midnight", "city lights", "golden river", "wild", "blue",
                 "ocean fever", "electric paradise", "shadow", "gravity",
                 "highway sunset", "diamond", "thunder", "silver echo",
                 "young forever", "broken angel", "crazy sweet", "moon",
                 "taylor swift", "ed sheeran", "billie", "drake",
                 "dua lipa", "lana del rey", "bruno mars", "adele",
                 "corazón", "noche fuego", "amor", "cielo", "soleil",
                 "amour", "nacht", "liebe", "herz", "coração", "saudade",
                 "kärlek", "sommar", "東京", "夢", "midn", "gold",
                 "indie rock", "dance pop", "kalström", "zzqx"}
local ks = {"10", "10", "10", "10", "10", "10", "20", "5"}
local i = 0
local fixed = os.getenv("PATH_FIXED")
local label = os.getenv("LABEL") or "serve"
local kfix = os.getenv("K")
-- DEBUG_EVERY=N: every Nth request asks for debug=1, and the per-stage
-- CPU times of those answers (debug.cpu_us) are averaged in done().
local every = tonumber(os.getenv("DEBUG_EVERY") or "0")
local stages = {"analyze", "decide", "arms", "rank"}
-- Globals, so that done() can read each thread's with thread:get().
nsum = 0
local threads = {}

setup = function(thread)
        table.insert(threads, thread)
end

local function escape(s)
        return (s:gsub("[^%w%-_.~]", function(c)
                if c == " " then return "+" end
                return string.format("%%%02X", string.byte(c))
        end))
end

request = function()
        if fixed then
                return wrk.format("GET", fixed)
        end
        i = i + 1
        local q = escape(queries[(i % #queries) + 1])
        local k = kfix or ks[(i % #ks) + 1]
        local dbg = (every > 0 and i % every == 0) and "&debug=1" or ""
        return wrk.format("GET", "/v1/search?q=" .. q .. "&k=" .. k ..
                          "&user=bench-" .. (i * 7919 % 1000) .. dbg)
end

if every > 0 then
        response = function(status, headers, body)
                local c = body:match('"cpu_us":(%b{})')
                if not c then
                        return
                end
                for _, st in ipairs(stages) do
                        local v = tonumber(c:match('"' .. st .. '":([%d.eE+-]+)'))
                        _G["sum_" .. st] = (_G["sum_" .. st] or 0) + (v or 0)
                end
                nsum = nsum + 1
        end
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
        if every > 0 then
                local tot, n = {}, 0
                for _, t in ipairs(threads) do
                        n = n + (t:get("nsum") or 0)
                        for _, st in ipairs(stages) do
                                tot[st] = (tot[st] or 0) + (t:get("sum_" .. st) or 0)
                        end
                end
                local line = string.format("%s_stage_cpu_us samples=%d", label, n)
                for _, st in ipairs(stages) do
                        line = line .. string.format(" %s=%.1f", st,
                                                     n > 0 and tot[st] / n or 0)
                end
                io.write(line .. "\n")
        end
end
