-- ltrr-learn: applies one part of one reward, or stores consumed offsets.
-- Every key of one call is in one hash slot (see online/learn_plan.h).
--
-- Offsets:  KEYS[1] offsets hash; ARGV[1] = "o", then field, value pairs.
-- Others:   KEYS[1] deduplication bitmap, KEYS[2..] targets;
--           ARGV[1] kind, ARGV[2] bit, ARGV[3] bitmap TTL (s), then:
--   b   bandit   KEYS[2] stats hash; h, t, epoch, (field, delta, decays)*
--   qn  q2e n    KEYS[2] meta hash, KEYS[3] zset; ttl
--   q   q2e      KEYS[2] zset, KEYS[3] meta hash; ttl, max, entity, value
--   p   pop      KEYS[2] zset, KEYS[3] epoch key; h, t, epoch, max,
--                entity, value
--   u   profile  KEYS[2] recent zset, KEYS[3] affinity zset; ttl,
--                recent max, affinity max, entity, time ms, value
-- Returns 1 when applied, 0 when the bit was already set (duplicate).

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

if redis.call('SETBIT', KEYS[1], ARGV[2], 1) == 1 then
        return 0
end
redis.call('EXPIRE', KEYS[1], ARGV[3])

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

-- Decaying bandit fields: n, s, q, b, A (c, v and e do not decay).
local function decays(field)
        local c = string.sub(field, 1, 2)
        return c == 'n:' or c == 's:' or c == 'q:' or c == 'b:' or c == 'A:'
end

local function bandit()
        local key, h, t = KEYS[2], tonumber(ARGV[4]), tonumber(ARGV[5])
        redis.call('HSETNX', key, 'e', ARGV[6])
        local e = tonumber(redis.call('HGET', key, 'e'))
        if h > 0 and (t - e) / h > 64 then
                local ne = tonumber(ARGV[6])
                local f = scale(e, ne, h)
                local all = redis.call('HGETALL', key)
                for i = 1, #all, 2 do
                        if decays(all[i]) then
                                redis.call('HSET', key, all[i],
                                           tonumber(all[i + 1]) * f)
                        end
                end
                redis.call('HSET', key, 'e', ARGV[6])
                e = ne
        end
        local s = scale(t, e, h)
        for i = 7, #ARGV, 3 do
                local d = tonumber(ARGV[i + 1])
                if ARGV[i + 2] == '1' then d = d * s end
                redis.call('HINCRBYFLOAT', key, ARGV[i], d)
        end
end

local function q2e_count()
        redis.call('HINCRBY', KEYS[2], 'n', 1)
        redis.call('EXPIRE', KEYS[2], ARGV[4])
        redis.call('EXPIRE', KEYS[3], ARGV[4])
end

local function q2e()
        redis.call('ZINCRBY', KEYS[2], ARGV[7], ARGV[6])
        trim(KEYS[2], tonumber(ARGV[5]))
        redis.call('EXPIRE', KEYS[2], ARGV[4])
        redis.call('EXPIRE', KEYS[3], ARGV[4])
end

local function pop()
        local h, t = tonumber(ARGV[4]), tonumber(ARGV[5])
        redis.call('SETNX', KEYS[3], ARGV[6])
        local e = tonumber(redis.call('GET', KEYS[3]))
        if h > 0 and (t - e) / h > 64 then
                local ne = tonumber(ARGV[6])
                local f = scale(e, ne, h)
                local all = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
                for i = 1, #all, 2 do
                        redis.call('ZADD', KEYS[2], tonumber(all[i + 1]) * f,
                                   all[i])
                end
                redis.call('SET', KEYS[3], ARGV[6])
                e = ne
        end
        redis.call('ZINCRBY', KEYS[2], tonumber(ARGV[9]) * scale(t, e, h),
                   ARGV[8])
        trim(KEYS[2], tonumber(ARGV[7]))
end

local function profile()
        redis.call('ZADD', KEYS[2], 'GT', ARGV[8], ARGV[7])
        trim(KEYS[2], tonumber(ARGV[5]))
        redis.call('ZINCRBY', KEYS[3], ARGV[9], ARGV[7])
        trim(KEYS[3], tonumber(ARGV[6]))
        redis.call('EXPIRE', KEYS[2], ARGV[4])
        redis.call('EXPIRE', KEYS[3], ARGV[4])
end

if kind == 'b' then bandit()
elseif kind == 'qn' then q2e_count()
elseif kind == 'q' then q2e()
elseif kind == 'p' then pop()
else profile()
end
return 1
