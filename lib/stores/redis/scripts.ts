/**
 * The Lua scripts that keep the Redis store's key layout (key-layout.ts): every store step is one
 * script, so one atomic step that changes a session and its uid's index together. Each script
 * gets every key it touches in KEYS and reads the time with Redis's `TIME`, so app servers whose
 * clocks differ agree on when a session ends. Each declares its flags (Redis 7): those that write
 * new state (`create`, `update`) are refused whole while Redis is out of memory, writing nothing;
 * those that only read, slide or delete (`allow-oom`) go on working, and never add data then.
 */
import { createHash } from 'node:crypto'
import { CREATE, DELETE, GET, UPDATE } from './session-scripts'
import { DELETE_ALL, END_SESSIONS, LIST } from './user-scripts'

/** A script, run by its SHA-1 (`EVALSHA`) and sent whole (`EVAL`) only when Redis does not know it yet. */
export interface RedisScript {
  /** For logs: the operation it does. */
  name: string
  lua: string
  sha: string
}

/*
 * What every script starts with. The index scores each admitted session by its deadline (epoch
 * ms), so that entries of ended sessions go with one ZREMRANGEBYSCORE and the uid's session
 * nearest its end comes first; a session that never ends scores NEVER plus its last activity,
 * after all others, by activity. Lua turns numbers into text with 14 digits, so times go through
 * `digits`.
 */
const PRELUDE = `
local NEVER = 4503599627370496

local function clock()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

local function digits(number)
  return string.format('%.0f', number)
end

-- deadlineOf() of lib/core/expiry.ts; missing metadata reads as 0, so a damaged hash counts as ended
local function deadline(created, active, maxAge, life)
  maxAge, life = tonumber(maxAge) or 0, tonumber(life) or 0
  local at = math.huge
  if maxAge > 0 then at = (tonumber(active) or 0) + maxAge * 1000 end
  if life > 0 then at = math.min(at, (tonumber(created) or 0) + life * 1000) end
  return at
end

local function scoreOf(at, active)
  if at == math.huge then return digits(NEVER + (tonumber(active) or 0)) end
  return digits(at)
end

-- the index outlives each of its sessions: extends its expiry to at (never shortens it), O(1)
local function cover(index, at)
  if at == math.huge then redis.call('PERSIST', index)
  else redis.call('PEXPIREAT', index, digits(math.ceil(at)), 'GT') end
end

-- sets the index's expiry to its latest session's deadline exactly, O(log n)
local function fit(index)
  local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  if #last == 0 then return end
  local at = tonumber(last[2])
  if at >= NEVER then redis.call('PERSIST', index)
  else redis.call('PEXPIREAT', index, digits(math.ceil(at))) end
end

-- unpack() has a stack limit, so long argument lists go in slices (even-sized: field/value pairs stay whole)
local function callInSlices(command, key, list, first, last)
  while first <= last do
    local upto = math.min(first + 999, last)
    redis.call(command, key, unpack(list, first, upto))
    first = upto + 1
  end
end
`

/** A script of `body` with the prelude, declaring `flags` ('' for none: refused under OOM). */
function redisScript(name: string, flags: string, body: string): RedisScript {
  const lua = `#!lua${flags ? ` flags=${flags}` : ''}\n${PRELUDE}${body}`
  return { name, lua, sha: createHash('sha1').update(lua).digest('hex') }
}

/** The store's scripts, one per step. */
export const STORE_SCRIPTS = {
  create: redisScript('create', '', CREATE),
  get: redisScript('get', 'allow-oom', GET),
  update: redisScript('update', '', UPDATE),
  delete: redisScript('delete', 'allow-oom', DELETE),
  list: redisScript('list', 'allow-oom', LIST),
  deleteAll: redisScript('deleteAll', 'allow-oom', DELETE_ALL),
  endSessions: redisScript('endSessions', 'allow-oom', END_SESSIONS),
} as const

/** Whether a script's reply says it was given the wrong index: `['index', handle]`, the right one. */
export function isIndexReply(reply: unknown): reply is ['index', string] {
  return Array.isArray(reply) && reply[0] === 'index'
}
