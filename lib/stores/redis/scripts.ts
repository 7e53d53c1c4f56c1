/**
 * The Lua scripts that keep the Redis store's key layout (key-layout.ts): every store operation
 * is one script, so one round trip and one atomic step that updates a session and its user's
 * index together.
 */
import { createHash } from 'node:crypto'
import { TAG_LENGTH } from './key-layout'

/** A script, run by its SHA-1 (`EVALSHA`) and sent whole (`EVAL`) only when Redis does not know it yet. */
export interface RedisScript {
  /** For logs: the operation it does. */
  name: string
  numberOfKeys: number
  lua: string
  sha: string
}

/*
 * Every script starts with the store's constants (`prefix`, the key prefix as Redis sees it: the
 * client's keyPrefix + the store's; `salt`, the store's prefix, which userTag hashes), written into
 * its text so that no call sends them, and gets ARGV[1] = now in epoch ms; its own arguments follow.
 * Keys it derives (other sessions, the user index) share the slot of its declared keys by construction.
 */
const PRELUDE = `
local now = tonumber(ARGV[1])
local ID_TAG = '^' .. string.rep('[A-Za-z0-9_%-]', ${TAG_LENGTH})

local function sessionKey(id)
  return prefix .. ':{' .. (string.match(id, ID_TAG) or '_') .. '}:s:' .. id
end

-- the id a session key names: what follows its tag (which never holds a '}') and ':s:'
local function idOf(key)
  return string.sub(key, string.find(key, '}:s:', #prefix + 3, true) + 4)
end

local function indexKey(uid)
  return prefix .. ':{' .. string.sub(redis.sha1hex(salt .. ':' .. uid), 1, ${TAG_LENGTH}) .. '}:u:' .. uid
end

-- deadlineOf() of lib/expiry.ts; missing metadata reads as 0, so a damaged hash counts as expired
local function deadline(created, active, maxAge, life)
  maxAge, life = tonumber(maxAge) or 0, tonumber(life) or 0
  local at = math.huge
  if maxAge > 0 then at = (tonumber(active) or 0) + maxAge * 1000 end
  if life > 0 then at = math.min(at, (tonumber(created) or 0) + life * 1000) end
  return at
end

-- unpack() has a stack limit, so long argument lists go in slices (even-sized: field/value pairs stay whole)
local function callInSlices(command, key, list, first, last)
  while first <= last do
    local upto = math.min(first + 999, last)
    redis.call(command, key, unpack(list, first, upto))
    first = upto + 1
  end
end

-- the longest TTL among the indexed sessions becomes the index's; ids whose session is gone are dropped
local function refreshIndex(index)
  local longest = 0
  for _, id in ipairs(redis.call('ZRANGE', index, 0, -1)) do
    local ttl = redis.call('PTTL', sessionKey(id))
    if ttl == -2 then redis.call('ZREM', index, id)
    elseif ttl == -1 then longest = math.huge
    elseif ttl > longest then longest = ttl end
  end
  if longest == math.huge then redis.call('PERSIST', index)
  elseif longest > 0 then redis.call('PEXPIRE', index, longest) end
end

-- ends the uid's indexed sessions but keep; a replaced one becomes a value-less marker with its remaining TTL
local function endOthers(index, uid, keep, replaced)
  local ended = {}
  for _, id in ipairs(redis.call('ZRANGE', index, 0, -1)) do
    if id ~= keep then
      local key = sessionKey(id)
      local m = redis.call('HMGET', key, 'm:uid', 'm:tok', 'm:created', 'm:active', 'm:maxAge', 'm:life', 'm:ended')
      if m[1] == uid and not m[7] then
        local live = deadline(m[3], m[4], m[5], m[6]) > now
        local ttl = redis.call('PTTL', key)
        redis.call('DEL', key)
        if live then
          table.insert(ended, id)
          if replaced then
            redis.call('HSET', key, 'm:uid', uid, 'm:tok', m[2] or '', 'm:created', m[3] or '0',
              'm:active', m[4] or '0', 'm:maxAge', m[5] or '0', 'm:life', m[6] or '0', 'm:ended', 'replaced')
            if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
          end
        end
      end
      redis.call('ZREM', index, id)
    end
  end
  return ended
end
`

/**
 * KEYS: session, user index. ARGV[2..]: uid, createdAt, lastActiveAt, maxAge, lifetime,
 * replaceOthers ('1'/'0'), marker ('1'/'0'), then the hash's field/value pairs. Returns the
 * ids it ended. A record already past its deadline is not written.
 */
const CREATE = `
local key, index = KEYS[1], KEYS[2]
local id = idOf(key)
local ended = {}
if ARGV[7] == '1' then ended = endOthers(index, ARGV[2], id, true) end
redis.call('DEL', key)
redis.call('ZREM', index, id)
local at = deadline(ARGV[3], ARGV[4], ARGV[5], ARGV[6])
if at > now then
  callInSlices('HSET', key, ARGV, 9, #ARGV)
  if at ~= math.huge then redis.call('PEXPIRE', key, math.ceil(at - now)) end
  if ARGV[8] ~= '1' then redis.call('ZADD', index, ARGV[3], id) end
end
refreshIndex(index)
return ended
`

/**
 * KEYS: session. Returns nil for an unknown id, else a flat reply: the state, the
 * metadata by position (uid, tok, created, active, maxAge, life, prev, prevExp, ended; nil where
 * absent; the times and policies as integers, which reach the client as numbers, not text),
 * then the values as key/JSON pairs without their `v:` prefix (`toRecord` in redis-store.ts reads it). State is 'live' (now slid: m:active = now, TTL = new deadline),
 * 'ended' (a marker) or 'expired' (past its deadline by its own metadata, whatever its TTL said:
 * now deleted and unindexed). Positions instead of field names keep the reply, and its parsing, short.
 */
const GET = `
local key = KEYS[1]
local fields = redis.call('HGETALL', key)
local meta, values = {}, {}
for i = 1, #fields, 2 do
  local field = fields[i]
  if string.sub(field, 1, 2) == 'v:' then
    values[#values + 1] = string.sub(field, 3)
    values[#values + 1] = fields[i + 1]
  else
    meta[field] = fields[i + 1]
  end
end
local uid = meta['m:uid']
if not uid then return false end
local function number(field) return tonumber(meta[field]) or false end
local function reply(state)
  local out = {state, uid, meta['m:tok'] or false, number('m:created'), number('m:active'), number('m:maxAge'),
    number('m:life'), meta['m:prev'] or false, number('m:prevExp'), meta['m:ended'] or false}
  for i = 1, #values do out[#out + 1] = values[i] end
  return out
end
local at = deadline(meta['m:created'], meta['m:active'], meta['m:maxAge'], meta['m:life'])
if meta['m:ended'] then
  if at <= now then redis.call('DEL', key) return false end
  return reply('ended')
end
if at <= now then
  redis.call('DEL', key)
  redis.call('ZREM', indexKey(uid), idOf(key))
  return reply('expired')
end
redis.call('HSET', key, 'm:active', ARGV[1])
meta['m:active'] = ARGV[1]
local ttl = deadline(meta['m:created'], now, meta['m:maxAge'], meta['m:life']) - now
if ttl ~= math.huge then
  ttl = math.ceil(ttl)
  redis.call('PEXPIRE', key, ttl)
  local index = indexKey(uid)
  local current = redis.call('PTTL', index)
  if current >= 0 and current < ttl then redis.call('PEXPIRE', index, ttl) end
end
return reply('live')
`

/**
 * KEYS: session. ARGV[2..]: number of fields to delete, number of field/value pairs to set,
 * those fields, those pairs, then for a token rotation only: tokenHash, the hash it replaces, and
 * until when the replaced one still verifies ('' for not at all). Writes only to a live session:
 * returns nil for a missing, deleted or marker session, or a rotation whose replaced hash is no
 * longer the current one; its uid for one it found past its deadline (and deleted); 1 otherwise.
 */
const UPDATE = `
local key = KEYS[1]
local m = redis.call('HMGET', key, 'm:uid', 'm:created', 'm:active', 'm:maxAge', 'm:life', 'm:ended', 'm:tok')
if not m[1] or m[6] then return false end
local at = deadline(m[2], m[3], m[4], m[5])
if at <= now then
  redis.call('DEL', key)
  redis.call('ZREM', indexKey(m[1]), idOf(key))
  return m[1]
end
local unsetCount, pairCount = tonumber(ARGV[2]), tonumber(ARGV[3])
local pairsEnd = 3 + unsetCount + pairCount * 2
local tok, replaces, prevExp = ARGV[pairsEnd + 1], ARGV[pairsEnd + 2], ARGV[pairsEnd + 3]
if tok and m[7] ~= replaces then return false end
callInSlices('HDEL', key, ARGV, 4, 3 + unsetCount)
callInSlices('HSET', key, ARGV, 4 + unsetCount, pairsEnd)
if tok then
  if prevExp == '' then
    redis.call('HSET', key, 'm:tok', tok)
    redis.call('HDEL', key, 'm:prev', 'm:prevExp')
  else
    redis.call('HSET', key, 'm:tok', tok, 'm:prev', replaces, 'm:prevExp', prevExp)
  end
end
if at ~= math.huge then redis.call('PEXPIRE', key, math.ceil(at - now)) end
return 1
`

/** KEYS: session. Deletes it and its index entry; returns its uid if it was live. */
const DELETE = `
local key = KEYS[1]
local m = redis.call('HMGET', key, 'm:uid', 'm:ended')
if redis.call('DEL', key) == 0 or not m[1] then return false end
redis.call('ZREM', indexKey(m[1]), idOf(key))
if m[2] then return false end
return m[1]
`

/**
 * KEYS: user index. ARGV[2]: uid. Returns {live, expired}: live is flat (id, createdAt,
 * lastActiveAt, maxAge, lifetime)*, oldest first; expired the ids it found past their deadline
 * and deleted. Prunes ids whose session is gone and sets the index TTL to its longest session's.
 */
const LIST = `
local index, uid = KEYS[1], ARGV[2]
local live, expired, longest = {}, {}, 0
for _, id in ipairs(redis.call('ZRANGE', index, 0, -1)) do
  local key = sessionKey(id)
  local m = redis.call('HMGET', key, 'm:uid', 'm:created', 'm:active', 'm:maxAge', 'm:life', 'm:ended')
  if m[1] ~= uid or m[6] then
    redis.call('ZREM', index, id)
  elseif deadline(m[2], m[3], m[4], m[5]) <= now then
    redis.call('DEL', key)
    redis.call('ZREM', index, id)
    table.insert(expired, id)
  else
    table.insert(live, id)
    for i = 2, 5 do table.insert(live, m[i]) end
    local ttl = redis.call('PTTL', key)
    if ttl == -1 then longest = math.huge elseif ttl > longest then longest = ttl end
  end
end
if longest == math.huge then redis.call('PERSIST', index)
elseif longest > 0 then redis.call('PEXPIRE', index, longest) end
return {live, expired}
`

/** KEYS: user index. ARGV[2..]: uid, except ('' for none), replaced ('1'/'0'). Returns the ids it ended. */
const DELETE_ALL = `
local ended = endOthers(KEYS[1], ARGV[2], ARGV[3], ARGV[4] == '1')
refreshIndex(KEYS[1])
return ended
`

/** A store's scripts, one per operation. */
export interface StoreScripts {
  create: RedisScript
  get: RedisScript
  update: RedisScript
  delete: RedisScript
  list: RedisScript
  deleteAll: RedisScript
}

/**
 * The scripts of a store whose keys start with `keyspace` as Redis sees them (the client's
 * keyPrefix + `prefix`) and whose uid tags hash `prefix`: both written into each script's text.
 */
export function storeScripts(keyspace: string, prefix: string): StoreScripts {
  const constants = `local prefix, salt = ${luaString(keyspace)}, ${luaString(prefix)}\n`
  const script = (name: string, numberOfKeys: number, body: string): RedisScript => {
    const lua = constants + PRELUDE + body
    return { name, numberOfKeys, lua, sha: createHash('sha1').update(lua).digest('hex') }
  }
  return {
    create: script('create', 2, CREATE),
    get: script('get', 1, GET),
    update: script('update', 1, UPDATE),
    delete: script('delete', 1, DELETE),
    list: script('list', 1, LIST),
    deleteAll: script('deleteAll', 1, DELETE_ALL),
  }
}

/** `text` as a Lua string literal: every UTF-8 byte as a decimal escape, so no character needs quoting. */
function luaString(text: string): string {
  let literal = "'"
  for (const byte of Buffer.from(text, 'utf8')) literal += `\\${String(byte).padStart(3, '0')}`
  return `${literal}'`
}
