-- ltrr-learn: applies the records of one group (one kind, one set of
-- target keys, one hash slot) or stores consumed offsets. See
-- online/learn_plan.h for how the learner builds the arguments.
--
-- Offsets:  KEYS[1] offsets hash; ARGV[1] = "o", then field, value pairs.
-- Others:   KEYS[1..m] deduplication bitmaps, KEYS[m+1..] targets;
--           ARGV[1] kind, ARGV[2] m, ARGV[3] bitmap TTL (s), ARGV[4] f,
--           ARGV[5..4+f] fixed arguments, then per record:
--           bitmap index, bit, v, v values.
--   kind  targets                 fixed            record values
--   b     stats hash              h                t, epoch, (field, delta)*
--   qn    meta hash, zset         ttl              -
--   q     zset, meta hash         ttl, max         entity, value
--   p     zset, epoch key         h, max           t, epoch, entity, value
--   u     recent zset, aff zset   ttl, rmax, amax  entity, time ms, value
--
-- A record whose bit was already set is a duplicate and adds nothing;
-- the others are summed per field or member and written once each.
-- Returns {applied records, duplicate records}.

local kind = ARGV[1]

if kind == 'o' then
        for i = 2, #ARGV, 2 do
                redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
        end
        return 1
end

local kinds = {b = true, qn = true, q = true, p = true, u = true}
if not kinds[kind] then
        return redis.error_reply('ltrr: unknown kind ' .. tostring(kind))
end

local m, ttl, nf = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local T = m + 1 -- first target key

-- Sets every record's bit; returns the ARGV index of the first value of
-- each record whose bit was clear, and the duplicate count.
local function mark()
        local fresh, touched, dups = {}, {}, 0
        local i = 5 + nf
        while i <= #ARGV do
                local k, nv = tonumber(ARGV[i]), tonumber(ARGV[i + 2])
                if redis.call('SETBIT', KEYS[k], ARGV[i + 1], 1) == 1 then
                        dups = dups + 1
                else
                        touched[k] = true
                        fresh[#fresh + 1] = i
                end
                i = i + 3 + nv
        end
        for k in pairs(touched) do
                redis.call('EXPIRE', KEYS[k], ttl)
        end
        return fresh, dups
end

-- Keeps the max largest members of a sorted set.
local function trim(key, max)
        local extra = redis.call('ZCARD', key) - max
        if extra > 0 then
                redis.call('ZREMRANGEBYRANK', key, 0, extra - 1)
        end
end

-- 2^((t - e) / h), or 1 without decay.
local function scale(t, e, h)
        if h <= 0 then return 1 end
        return 2 ^ ((t - e) / h)
end

-- Full precision for a number written back to Redis.
local function num(x)
        return string.format('%.17g', x)
end

-- Decaying bandit fields: n, s, q, b, A (c, v and e do not decay).
local function decays(field)
        local c = string.sub(field, 1, 2)
        return c == 'n:' or c == 's:' or c == 'q:' or c == 'b:' or c == 'A:'
end

-- An ordered sum: add(k, v) per record, then each(fn) once per key.
local function sums()
        local acc, order = {}, {}
        local s = {}
        function s.add(k, v)
                if acc[k] == nil then
                        acc[k] = v
                        order[#order + 1] = k
                else
                        acc[k] = acc[k] + v
                end
        end
        function s.each(fn)
                for _, k in ipairs(order) do fn(k, acc[k]) end
                acc, order = {}, {}
        end
        return s
end

local function bandit(fresh)
        local key, h = KEYS[T], tonumber(ARGV[5])
        local acc, e = sums(), nil
        local function flush()
                acc.each(function(f, d)
                        redis.call('HINCRBYFLOAT', key, f, num(d))
                end)
        end
        for _, i in ipairs(fresh) do
                local nv, j = tonumber(ARGV[i + 2]), i + 3
                local t = tonumber(ARGV[j])
                if e == nil then
                        redis.call('HSETNX', key, 'e', ARGV[j + 1])
                        e = tonumber(redis.call('HGET', key, 'e'))
                end
                if h > 0 and (t - e) / h > 64 then
                        flush()
                        local ne = tonumber(ARGV[j + 1])
                        local f = scale(e, ne, h)
                        local all = redis.call('HGETALL', key)
                        for a = 1, #all, 2 do
                                if decays(all[a]) then
                                        redis.call('HSET', key, all[a],
                                                   num(tonumber(all[a + 1]) * f))
                                end
                        end
                        redis.call('HSET', key, 'e', ARGV[j + 1])
                        e = ne
                end
                local s = scale(t, e, h)
                for p = j + 2, j + nv - 1, 2 do
                        local d = tonumber(ARGV[p + 1])
                        if decays(ARGV[p]) then d = d * s end
                        acc.add(ARGV[p], d)
                end
        end
        flush()
end

local function q2e_count(fresh)
        redis.call('HINCRBY', KEYS[T], 'n', #fresh)
        redis.call('EXPIRE', KEYS[T], ARGV[5])
        redis.call('EXPIRE', KEYS[T + 1], ARGV[5])
end

local function q2e(fresh)
        local acc = sums()
        for _, i in ipairs(fresh) do
                acc.add(ARGV[i + 3], tonumber(ARGV[i + 4]))
        end
        acc.each(function(ent, v)
                redis.call('ZINCRBY', KEYS[T], num(v), ent)
        end)
        trim(KEYS[T], tonumber(ARGV[6]))
        redis.call('EXPIRE', KEYS[T], ARGV[5])
        redis.call('EXPIRE', KEYS[T + 1], ARGV[5])
end

local function pop(fresh)
        local z, ekey = KEYS[T], KEYS[T + 1]
        local h, max = tonumber(ARGV[5]), tonumber(ARGV[6])
        local acc, e = sums(), nil
        local function flush()
                acc.each(function(ent, v)
                        redis.call('ZINCRBY', z, num(v), ent)
                end)
                trim(z, max)
        end
        for _, i in ipairs(fresh) do
                local j = i + 3
                local t = tonumber(ARGV[j])
                if e == nil then
                        redis.call('SETNX', ekey, ARGV[j + 1])
                        e = tonumber(redis.call('GET', ekey))
                end
                if h > 0 and (t - e) / h > 64 then
                        flush()
                        local ne = tonumber(ARGV[j + 1])
                        local f = scale(e, ne, h)
                        local all = redis.call('ZRANGE', z, 0, -1, 'WITHSCORES')
                        for a = 1, #all, 2 do
                                redis.call('ZADD', z,
                                           num(tonumber(all[a + 1]) * f),
                                           all[a])
                        end
                        redis.call('SET', ekey, ARGV[j + 1])
                        e = ne
                end
                acc.add(ARGV[j + 2], tonumber(ARGV[j + 3]) * scale(t, e, h))
        end
        flush()
end

local function profile(fresh)
        local recent, aff = {}, sums()
        local order = {}
        for _, i in ipairs(fresh) do
                local ent, tms = ARGV[i + 3], tonumber(ARGV[i + 4])
                if recent[ent] == nil then
                        order[#order + 1] = ent
                        recent[ent] = tms
                elseif tms > recent[ent] then
                        recent[ent] = tms
                end
                aff.add(ent, tonumber(ARGV[i + 5]))
        end
        for _, ent in ipairs(order) do
                redis.call('ZADD', KEYS[T], 'GT', num(recent[ent]), ent)
        end
        trim(KEYS[T], tonumber(ARGV[6]))
        aff.each(function(ent, v)
                redis.call('ZINCRBY', KEYS[T + 1], num(v), ent)
        end)
        trim(KEYS[T + 1], tonumber(ARGV[7]))
        redis.call('EXPIRE', KEYS[T], ARGV[5])
        redis.call('EXPIRE', KEYS[T + 1], ARGV[5])
end

local fresh, dups = mark()
if #fresh > 0 then
        if kind == 'b' then bandit(fresh)
        elseif kind == 'qn' then q2e_count(fresh)
        elseif kind == 'q' then q2e(fresh)
        elseif kind == 'p' then pop(fresh)
        else profile(fresh)
        end
end
return {#fresh, dups}
