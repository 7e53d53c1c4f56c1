/**
 * The Lua bodies of the scripts that work on one session (scripts.ts adds the prelude and the
 * flags). A session is admitted only while its uid's index holds its id, checked in the same
 * script as the read or the write: a `deleteAll` ends sessions by taking them out of the index,
 * and an index that Redis evicted or lost ends its sessions rather than freeing them. Every cost
 * here is O(log n) or better in the uid's number of sessions.
 *
 * The session scripts take KEYS = session[, index] and ARGV[1] = id, ARGV[2] = the handle whose
 * index KEYS[2] is ('' for none). An anonymous session (`m:uid` is '') has no index: its hash
 * alone admits it. A session that names another handle in `m:h` (its id was made
 * elsewhere) answers `{'index', handle}` before changing anything, and the client calls again.
 */

/**
 * Sessions a script of `deleteAll` (or of a login that replaces the others, or of `list`) takes
 * at once: about a millisecond of Redis's time, whatever the uid holds.
 */
export const CHUNK = 100

/**
 * KEYS: session, index (none for an anonymous session). ARGV: id, maxSessionsPerUser (0 for none), marker ('1'/'0'), createdAt,
 * lastActiveAt, maxAge, lifetime, then the hash's field/value pairs; KEYS[3], for `replaceOthers`: where to move the
 * uid's other sessions to. Returns {evicted, first}: the ids the per-user limit took out of the
 * index (their hashes are the client's to delete), and the first chunk of the moved sessions. A
 * record already past its deadline is not written.
 */
export const CREATE = `
local key, index, retired, id = KEYS[1], KEYS[2], KEYS[3], ARGV[1]
local now = clock()
redis.call('UNLINK', key)
if index then redis.call('ZREM', index, id) end
local at = deadline(ARGV[4], ARGV[5], ARGV[6], ARGV[7])
if at <= now then return {{}, {}} end
local moved = {}
if retired and redis.call('EXISTS', index) == 1 then
  redis.call('RENAME', index, retired)
  moved = redis.call('ZRANGE', retired, 0, ${CHUNK} - 1)
end
callInSlices('HSET', key, ARGV, 8, #ARGV)
if at ~= math.huge then redis.call('PEXPIREAT', key, digits(math.ceil(at))) end
local evicted = {}
if index and ARGV[3] ~= '1' then
  redis.call('ZADD', index, scoreOf(at, ARGV[5]), id)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', digits(now))
  local limit = tonumber(ARGV[2])
  local over = redis.call('ZCARD', index) - limit
  if limit > 0 and over > 0 then
    for _, other in ipairs(redis.call('ZRANGE', index, 0, over)) do
      if other ~= id and #evicted < over then evicted[#evicted + 1] = other end
    end
    redis.call('ZREM', index, unpack(evicted))
  end
  fit(index)
end
return {evicted, moved}
`

/**
 * Returns nil for an unknown or unadmitted id, else a flat reply: the state, the metadata by
 * position (uid, tok, created, active, maxAge, life, prev, prevExp, ended; nil where absent; the
 * times and policies as integers, which reach the client as numbers), then the hash's fields as
 * HGETALL gave them, for records.ts to take the `v:` ones from, so a large session is not copied
 * in Lua. State is 'live' (now slid: m:active = now, the TTL and the index score its new
 * deadline), 'ended' (a marker of a replaced session) or 'expired' (past its deadline by its own
 * metadata, whatever its TTL said: now deleted and unindexed). Under OOM it slides in place, adding nothing.
 */
export const GET = `
local key, index, id = KEYS[1], KEYS[2], ARGV[1]
local fields = redis.call('HGETALL', key)
local meta = {}
-- the metadata by name (fields starting 'm:', bytes 109 58); the values stay in fields, uncopied
for i = 1, #fields, 2 do
  local field = fields[i]
  if string.byte(field, 1) == 109 and string.byte(field, 2) == 58 then meta[field] = fields[i + 1] end
end
local uid = meta['m:uid']
if not uid then return false end
local function number(field) return tonumber(meta[field]) or false end
local function reply(state)
  return {state, uid, meta['m:tok'] or false, number('m:created'), number('m:active'), number('m:maxAge'),
    number('m:life'), meta['m:prev'] or false, number('m:prevExp'), meta['m:ended'] or false, fields}
end
local now = clock()
local at = deadline(meta['m:created'], meta['m:active'], meta['m:maxAge'], meta['m:life'])
if meta['m:ended'] then
  if at <= now then redis.call('UNLINK', key) return false end
  return reply('ended')
end
local anonymous = uid == ''
if not anonymous then
  local owner = meta['m:h'] or ARGV[2]
  if owner == '' then return false end
  if owner ~= ARGV[2] then return {'index', owner} end
  if not redis.call('ZSCORE', index, id) then return false end
end
if at <= now then
  redis.call('UNLINK', key)
  if not anonymous then redis.call('ZREM', index, id) end
  return reply('expired')
end
local slid = deadline(meta['m:created'], now, meta['m:maxAge'], meta['m:life'])
redis.call('HSET', key, 'm:active', digits(now))
meta['m:active'] = digits(now)
if slid ~= math.huge then redis.call('PEXPIREAT', key, digits(math.ceil(slid))) end
if not anonymous then
  redis.call('ZADD', index, 'XX', scoreOf(slid, now), id)
  cover(index, slid)
end
return reply('live')
`

/**
 * ARGV[3..]: number of fields to delete, number of field/value pairs to set, those fields, those
 * pairs, then for a token rotation only: tokenHash, the hash it replaces, and until when the
 * replaced one still verifies ('' for not at all). Writes only to an admitted, live session:
 * returns nil for a missing, unadmitted or marker session, or a rotation whose replaced hash is no
 * longer the current one; its uid for one it found past its deadline (and deleted); 1 otherwise.
 */
export const UPDATE = `
local key, index, id = KEYS[1], KEYS[2], ARGV[1]
local m = redis.call('HMGET', key, 'm:uid', 'm:created', 'm:active', 'm:maxAge', 'm:life', 'm:ended', 'm:tok', 'm:h')
if not m[1] or m[6] then return false end
local anonymous = m[1] == ''
if not anonymous then
  local owner = m[8] or ARGV[2]
  if owner == '' then return false end
  if owner ~= ARGV[2] then return {'index', owner} end
  if not redis.call('ZSCORE', index, id) then return false end
end
local at = deadline(m[2], m[3], m[4], m[5])
if at <= clock() then
  redis.call('UNLINK', key)
  if not anonymous then redis.call('ZREM', index, id) end
  return m[1]
end
local unsetCount, pairCount = tonumber(ARGV[3]), tonumber(ARGV[4])
local pairsEnd = 4 + unsetCount + pairCount * 2
local tok, replaces, prevExp = ARGV[pairsEnd + 1], ARGV[pairsEnd + 2], ARGV[pairsEnd + 3]
if tok and m[7] ~= replaces then return false end
callInSlices('HDEL', key, ARGV, 5, 4 + unsetCount)
callInSlices('HSET', key, ARGV, 5 + unsetCount, pairsEnd)
if tok then
  if prevExp == '' then
    redis.call('HSET', key, 'm:tok', tok)
    redis.call('HDEL', key, 'm:prev', 'm:prevExp')
  else
    redis.call('HSET', key, 'm:tok', tok, 'm:prev', replaces, 'm:prevExp', prevExp)
  end
end
if at ~= math.huge then redis.call('PEXPIREAT', key, digits(math.ceil(at))) end
return 1
`

/** Deletes the session and its index entry; returns its uid ('' when anonymous) if it was admitted. */
export const DELETE = `
local key, index, id = KEYS[1], KEYS[2], ARGV[1]
local m = redis.call('HMGET', key, 'm:uid', 'm:ended', 'm:h')
if not m[1] then return false end
if m[1] == '' then
  redis.call('UNLINK', key)
  return ''
end
if not m[2] then
  local owner = m[3] or ARGV[2]
  if owner ~= '' and owner ~= ARGV[2] then return {'index', owner} end
end
redis.call('UNLINK', key)
if m[2] or not index or redis.call('ZREM', index, id) == 0 then return false end
return m[1]
`
