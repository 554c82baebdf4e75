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
--   r     stats hash, count key   sum of records   z and n packed
--
-- A record whose bit was already set is a duplicate and adds nothing;
-- the others are summed per field or member and written once each. The
-- bits are set with one BITFIELD per bitmap (SET u1 returns the old bit,
-- in order, so a record repeated within the call is a duplicate too);
-- a call carries at most 1,024 records (online/learn_plan.c), so one
-- BITFIELD has at most 4,096 arguments, below Lua's unpack() limit.
-- Returns {applied records, duplicate records}.

-- Globals are looked up once: a local is a register, a global a table
-- lookup through Redis's protected environment.
local ARGV, KEYS, tonumber = ARGV, KEYS, tonumber
local call, unpack, ipairs = redis.call, unpack, ipairs
local format, sub, rep = string.format, string.sub, string.rep
local unpack_bin = struct.unpack

local kind = ARGV[1]

if kind == 'o' then
        for i = 2, #ARGV, 2 do
                call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
        end
        return 1
end

local kinds = {b = true, qn = true, q = true, p = true, u = true, r = true}
if not kinds[kind] then
        return redis.error_reply('ltrr: unknown kind ' .. tostring(kind))
end

local m, ttl, nf = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local T = m + 1 -- first target key

-- The number in string s (an ARGV entry), converted once per distinct
-- string: bitmap indexes, value counts and most values repeat, and a
-- lookup by an (interned) string is cheaper than strtod.
local numbers = {}
local function number(s)
        local v = numbers[s]
        if v == nil then
                v = tonumber(s)
                numbers[s] = v
        end
        return v
end

-- Sets every record's bit; returns the ARGV index of the first value of
-- each record whose bit was clear (in ARGV order), and the duplicate
-- count. Every record's bitmap index is used (and so checked: an index
-- outside 1..m fails here) before the first BITFIELD, so a malformed
-- call marks nothing it does not apply (docs/decisions/0038). The bit
-- value is the string '1': a Lua number would be formatted again for
-- every operation.
local function mark()
        local ops, cnt, at, bm, pos = {}, {}, {}, {}, {}
        for k = 1, m do
                ops[k], cnt[k] = {}, 0
        end
        local i, n, r = 5 + nf, #ARGV, 0
        while i <= n do
                local s = ARGV[i]
                local k = numbers[s]
                if k == nil then k = number(s) end
                local o, c = ops[k], cnt[k]
                o[c + 1], o[c + 2], o[c + 3], o[c + 4] =
                        'SET', 'u1', ARGV[i + 1], '1'
                cnt[k] = c + 4
                r = r + 1
                at[r], bm[r], pos[r] = i, k, c / 4 + 1
                s = ARGV[i + 2]
                local v = numbers[s]
                if v == nil then v = number(s) end
                i = i + 3 + v
        end
        local old = {}
        for k = 1, m do
                if cnt[k] > 0 then
                        old[k] = call('BITFIELD', KEYS[k], unpack(ops[k]))
                end
        end
        local fresh, touched, dups, f = {}, {}, 0, 0
        for j = 1, r do
                local k = bm[j]
                if old[k][pos[j]] == 1 then
                        dups = dups + 1
                else
                        touched[k] = true
                        f = f + 1
                        fresh[f] = at[j]
                end
        end
        for k = 1, m do
                if touched[k] then call('EXPIRE', KEYS[k], ttl) end
        end
        return fresh, dups
end

-- Keeps the max largest members of a sorted set.
local function trim(key, max)
        local extra = call('ZCARD', key) - max
        if extra > 0 then
                call('ZREMRANGEBYRANK', key, 0, extra - 1)
        end
end

-- 2^((t - e) / h), or 1 without decay.
local function scale(t, e, h)
        if h <= 0 then return 1 end
        return 2 ^ ((t - e) / h)
end

-- Full precision for a number written back to Redis.
local function num(x)
        return format('%.17g', x)
end

-- Decaying bandit fields: n, s, q, b, A (c, v and e do not decay).
-- Remembered per field name: a call sees the same few fields often.
local decay_memo = {}
local function decays(field)
        local d = decay_memo[field]
        if d == nil then
                local c = sub(field, 1, 2)
                d = c == 'n:' or c == 's:' or c == 'q:' or c == 'b:' or
                    c == 'A:'
                decay_memo[field] = d
        end
        return d
end

local function bandit(fresh)
        local key, h = KEYS[T], tonumber(ARGV[5])
        local sum, order, e = {}, {}, nil
        -- The hot loops add in place (no call per value), in the
        -- records' order: that order fixes the floating-point sums.
        local function flush()
                for _, f in ipairs(order) do
                        call('HINCRBYFLOAT', key, f, num(sum[f]))
                end
                sum, order = {}, {}
        end
        for x = 1, #fresh do
                local i = fresh[x]
                local nv, j = number(ARGV[i + 2]), i + 3
                local t = tonumber(ARGV[j])
                if e == nil then
                        -- a new object records its epoch and the
                        -- half-life its sums are scaled with, so readers
                        -- decay them alike (bstats.h)
                        if call('HSETNX', key, 'e', ARGV[j + 1]) == 1 then
                                call('HSET', key, 'h', ARGV[5])
                                e = tonumber(ARGV[j + 1])
                        else
                                e = tonumber(call('HGET', key, 'e'))
                        end
                end
                if h > 0 and (t - e) / h > 64 then
                        flush()
                        local ne = tonumber(ARGV[j + 1])
                        local f = scale(e, ne, h)
                        local all = call('HGETALL', key)
                        for a = 1, #all, 2 do
                                if decays(all[a]) then
                                        call('HSET', key, all[a],
                                             num(tonumber(all[a + 1]) * f))
                                end
                        end
                        call('HSET', key, 'e', ARGV[j + 1], 'h', ARGV[5])
                        e = ne
                end
                local s = scale(t, e, h)
                for p = j + 2, j + nv - 1, 2 do
                        local f, ds = ARGV[p], ARGV[p + 1]
                        local d = numbers[ds]
                        if d == nil then d = number(ds) end
                        local dk = decay_memo[f]
                        if dk == nil then dk = decays(f) end
                        if dk then d = d * s end
                        local a = sum[f]
                        if a == nil then
                                order[#order + 1] = f
                                sum[f] = d
                        else
                                sum[f] = a + d
                        end
                end
        end
        flush()
end

local function q2e_count(fresh)
        call('HINCRBY', KEYS[T], 'n', #fresh)
        call('EXPIRE', KEYS[T], ARGV[5])
        call('EXPIRE', KEYS[T + 1], ARGV[5])
end

local function q2e(fresh)
        local sum, order, z = {}, {}, KEYS[T]
        for x = 1, #fresh do
                local i = fresh[x]
                local ent, v = ARGV[i + 3], number(ARGV[i + 4])
                local a = sum[ent]
                if a == nil then
                        order[#order + 1] = ent
                        sum[ent] = v
                else
                        sum[ent] = a + v
                end
        end
        for _, ent in ipairs(order) do
                call('ZINCRBY', z, num(sum[ent]), ent)
        end
        trim(KEYS[T], tonumber(ARGV[6]))
        call('EXPIRE', KEYS[T], ARGV[5])
        call('EXPIRE', KEYS[T + 1], ARGV[5])
end

local function pop(fresh)
        local z, ekey = KEYS[T], KEYS[T + 1]
        local h, max = tonumber(ARGV[5]), tonumber(ARGV[6])
        local sum, order, e = {}, {}, nil
        local function flush()
                for x = 1, #order do
                        local ent = order[x]
                        call('ZINCRBY', z, num(sum[ent]), ent)
                end
                sum, order = {}, {}
                trim(z, max)
        end
        for x = 1, #fresh do
                local i = fresh[x]
                local j = i + 3
                local t = tonumber(ARGV[j])
                if e == nil then
                        call('SETNX', ekey, ARGV[j + 1])
                        e = tonumber(call('GET', ekey))
                end
                if h > 0 and (t - e) / h > 64 then
                        flush()
                        local ne = tonumber(ARGV[j + 1])
                        local f = scale(e, ne, h)
                        local all = call('ZRANGE', z, 0, -1, 'WITHSCORES')
                        for a = 1, #all, 2 do
                                call('ZADD', z,
                                           num(tonumber(all[a + 1]) * f),
                                           all[a])
                        end
                        call('SET', ekey, ARGV[j + 1])
                        e = ne
                end
                local ent = ARGV[j + 2]
                local v = number(ARGV[j + 3]) * scale(t, e, h)
                local cur = sum[ent]
                if cur == nil then
                        order[#order + 1] = ent
                        sum[ent] = v
                else
                        sum[ent] = cur + v
                end
        end
        flush()
end

local function profile(fresh)
        local recent, aff, order = {}, {}, {}
        for x = 1, #fresh do
                local i = fresh[x]
                local ent, tms = ARGV[i + 3], tonumber(ARGV[i + 4])
                local v, r = number(ARGV[i + 5]), recent[ent]
                if r == nil then
                        order[#order + 1] = ent
                        recent[ent] = tms
                        aff[ent] = v
                else
                        if tms > r then recent[ent] = tms end
                        aff[ent] = aff[ent] + v
                end
        end
        local za = {}
        for _, ent in ipairs(order) do
                za[#za + 1] = num(recent[ent])
                za[#za + 1] = ent
        end
        call('ZADD', KEYS[T], 'GT', unpack(za))
        trim(KEYS[T], tonumber(ARGV[6]))
        for _, ent in ipairs(order) do
                call('ZINCRBY', KEYS[T + 1], num(aff[ent]), ent)
        end
        trim(KEYS[T + 1], tonumber(ARGV[7]))
        call('EXPIRE', KEYS[T], ARGV[5])
        call('EXPIRE', KEYS[T + 1], ARGV[5])
end

-- Online ranker statistics: integer (fixed-point) sums, so HINCRBY adds
-- them exactly and the result does not depend on the order of records.
-- A value is z[0..n) then n[0..n) as little-endian int64s; ARGV[5] is
-- the sum of every record of the call (online/learn_plan.c), so only
-- duplicates are read, to take them out again. The sums stay below 2^53
-- (online/ranker_online.h bounds a record's delta at 1e12, a call
-- carries at most 1,024 records). Every field is written, so the set of
-- fields does not depend on which records a call carried.
local function ranker(fresh)
        local len = #ARGV[5]
        local cnt, half = len / 8, len / 16
        local fmt = '<' .. rep('i8', cnt)
        local acc = {unpack_bin(fmt, ARGV[5])}
        local i, n, j = 6, #ARGV, 1
        while i <= n do
                if fresh[j] == i then
                        j = j + 1
                else
                        local v = {unpack_bin(fmt, ARGV[i + 3])}
                        for k = 1, cnt do acc[k] = acc[k] - v[k] end
                end
                i = i + 4
        end
        for k = 1, cnt do
                local f = k <= half and 'z:' .. (k - 1) or 'n:' .. (k - 1 - half)
                call('HINCRBY', KEYS[T], f, format('%.0f', acc[k]))
        end
        call('HINCRBY', KEYS[T], 'count', #fresh)
        call('INCRBY', KEYS[T + 1], #fresh)
end

-- Ranker calls are checked before any write (a script error does not
-- undo the bits mark() sets): the sum and one value per record, all of
-- one size, a whole number of (z, n) int64 pairs.
if kind == 'r' then
        local len = ARGV[5] and #ARGV[5] or 0
        if nf ~= 1 or len == 0 or len % 16 ~= 0 then
                return redis.error_reply('ltrr: bad ranker call')
        end
        local i, n = 6, #ARGV
        while i <= n do
                local v = ARGV[i + 3]
                if ARGV[i + 2] ~= '1' or v == nil or #v ~= len then
                        return redis.error_reply('ltrr: bad ranker record')
                end
                i = i + 4
        end
end

local fresh, dups = mark()
if #fresh > 0 then
        if kind == 'b' then bandit(fresh)
        elseif kind == 'qn' then q2e_count(fresh)
        elseif kind == 'q' then q2e(fresh)
        elseif kind == 'p' then pop(fresh)
        elseif kind == 'r' then ranker(fresh)
        else profile(fresh)
        end
end
return {#fresh, dups}
