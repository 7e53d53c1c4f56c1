/**
 * The Lua bodies of the scripts that work on all sessions of one uid (scripts.ts adds the
 * prelude and the flags). Each touches at most `CHUNK` sessions, named in KEYS by the client
 * from the ids the previous call answered, so no call holds Redis for long whatever the uid
 * holds: a listing or a `deleteAll` of 100,000 sessions is many short scripts, not one long one.
 */
import { CHUNK } from './session-scripts'

/**
 * KEYS: index, then the sessions of this page. ARGV: uid, rank of the page's first id, then the
 * page's ids. Returns {live, expired, next, rank}: live is flat (id, createdAt, lastActiveAt,
 * maxAge, lifetime, userAgent, address)* ('' where not recorded) for the page's live sessions, expired the ids it found past their deadline
 * (and deleted), next the ids of the next page and rank its first rank. Ids whose session is gone
 * it takes out of the index. The first
 * call (rank 0, no ids) prunes ended entries; every call fits the index's expiry to what it holds.
 */
export const LIST = `
local index, uid, rank = KEYS[1], ARGV[1], tonumber(ARGV[2])
local now = clock()
if rank == 0 then redis.call('ZREMRANGEBYSCORE', index, '-inf', digits(now)) end
local live, expired = {}, {}
for i = 2, #KEYS do
  local id = ARGV[i + 1]
  local m = redis.call('HMGET', KEYS[i], 'm:uid', 'm:created', 'm:active', 'm:maxAge', 'm:life', 'm:ended',
    'm:ua', 'm:addr')
  if m[1] == uid and not m[6] and deadline(m[2], m[3], m[4], m[5]) > now then
    table.insert(live, id)
    for j = 2, 5 do table.insert(live, m[j]) end
    table.insert(live, m[7] or '')
    table.insert(live, m[8] or '')
    rank = rank + 1
  elseif m[1] == uid and not m[6] then
    redis.call('UNLINK', KEYS[i])
    redis.call('ZREM', index, id)
    table.insert(expired, id)
  elseif m[1] and m[1] ~= uid then
    rank = rank + 1
  else
    redis.call('ZREM', index, id)
  end
end
fit(index)
return {live, expired, redis.call('ZRANGE', index, rank, rank + ${CHUNK} - 1), rank}
`

/**
 * KEYS: index, where to move it. ARGV: except ('' for none). Moves the uid's index away in one
 * O(1) step, so that every session in it is unadmitted at once, and puts `except` back; returns
 * the first chunk of moved ids for `END_SESSIONS`.
 */
export const DELETE_ALL = `
local index, retired, except = KEYS[1], KEYS[2], ARGV[1]
if redis.call('EXISTS', index) == 0 then return {} end
local kept = except ~= '' and redis.call('ZSCORE', index, except)
redis.call('RENAME', index, retired)
if kept then
  redis.call('ZREM', retired, except)
  redis.call('ZADD', index, kept, except)
  fit(index)
end
return redis.call('ZRANGE', retired, 0, ${CHUNK} - 1)
`

/**
 * KEYS: the moved index, then sessions it names. ARGV: uid, replaced ('1'/'0'), then their ids.
 * Deletes each session of the uid (a replaced one becomes a value-less marker with its remaining
 * TTL) and takes it off the moved index. Returns {ended, next}: the ids that were still live, and
 * the next chunk.
 */
export const END_SESSIONS = `
local retired, uid, replaced = KEYS[1], ARGV[1], ARGV[2] == '1'
local now = clock()
local ended = {}
for i = 2, #KEYS do
  local key = KEYS[i]
  local m = redis.call('HMGET', key, 'm:uid', 'm:tok', 'm:created', 'm:active', 'm:maxAge', 'm:life', 'm:ended')
  if m[1] == uid and not m[7] then
    local live = deadline(m[3], m[4], m[5], m[6]) > now
    local ttl = replaced and live and redis.call('PTTL', key)
    redis.call('UNLINK', key)
    if live then
      table.insert(ended, ARGV[i + 1])
      if replaced then
        redis.call('HSET', key, 'm:uid', uid, 'm:tok', m[2] or '', 'm:created', m[3] or '0',
          'm:active', m[4] or '0', 'm:maxAge', m[5] or '0', 'm:life', m[6] or '0', 'm:ended', 'replaced')
        if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
      end
    end
  end
end
if #KEYS > 1 then redis.call('ZREM', retired, unpack(ARGV, 3, #ARGV)) end
return {ended, redis.call('ZRANGE', retired, 0, ${CHUNK} - 1)}
`
