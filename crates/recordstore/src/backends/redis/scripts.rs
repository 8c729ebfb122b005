//! The Lua scripts: update-if-present and the server-side filter.

use crate::filter::{Filter, Lookup};
use redis::Script;
use std::sync::LazyLock;

/// Replaces a field only if it exists, atomically: 1 if replaced, 0 if there was none.
pub(crate) static UPDATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then \
           redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) \
           return 1 \
         end \
         return 0",
    )
});

/// One `HSCAN` batch of `KEYS[1]` from cursor `ARGV[1]` with `COUNT ARGV[2]`, filtered by the
/// conditions in `ARGV[3]`. Returns `{next_cursor, field, value, field, value, ...}`.
///
/// It only needs to return a superset of the matches (the client checks each record with
/// `Filter::matches`), so whenever it cannot be sure it keeps the record: comparisons that
/// double rounding could decide wrongly, arrays and objects compared with each other, and
/// every value that serde_json might reject although cjson decoded it (so a corrupt record
/// always reaches the client, which reports it).
pub(crate) static FILTER: LazyLock<Script> = LazyLock::new(|| Script::new(FILTER_LUA));

const FILTER_LUA: &str = r#"
local conds = cjson.decode(ARGV[3])
local null = cjson.null
local huge = math.huge
local TWO53 = 9007199254740992

-- -1, 0, 1, or nil when rounding to doubles may have decided it.
local function num_cmp(a, b)
  if a == b then
    if a == math.floor(a) and math.abs(a) < TWO53 then return 0 end
    return nil
  end
  local m = math.max(math.abs(a), math.abs(b))
  if math.abs(a - b) <= m * 1e-12 then return nil end
  if a < b then return -1 end
  return 1
end

-- Byte order, as Rust compares strings (Lua's < follows the server's locale).
local function str_cmp(a, b)
  if a == b then return 0 end
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then
      if x < y then return -1 end
      return 1
    end
  end
  if #a < #b then return -1 end
  return 1
end

-- true, false, or nil for "cannot tell" (arrays and objects are ambiguous after cjson).
local function json_eq(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return false end
  if ta == 'number' then
    local c = num_cmp(a, b)
    if c == nil then return nil end
    return c == 0
  end
  if ta == 'table' then return nil end
  return a == b
end

local function any_eq(items, v)
  local unsure = false
  for _, item in ipairs(items) do
    local r = json_eq(item, v)
    if r then return true end
    if r == nil then unsure = true end
  end
  if unsure then return nil end
  return false
end

local function eval(op, f, v)
  if op == 'eq' then return json_eq(f, v) end
  if op == 'ne' then
    local r = json_eq(f, v)
    if r == nil then return nil end
    return not r
  end
  if op == 'gt' or op == 'gte' or op == 'lt' or op == 'lte' then
    local c
    local tf, tv = type(f), type(v)
    if tf == 'number' and tv == 'number' then
      c = num_cmp(f, v)
      if c == nil then return nil end
    elseif tf == 'string' and tv == 'string' then
      c = str_cmp(f, v)
    else
      return false
    end
    if op == 'gt' then return c > 0 end
    if op == 'gte' then return c >= 0 end
    if op == 'lt' then return c < 0 end
    return c <= 0
  end
  if op == 'in' then
    local unsure = false
    for _, o in ipairs(v) do
      local r = json_eq(f, o)
      if r then return true end
      if r == nil then unsure = true end
    end
    if unsure then return nil end
    return false
  end
  if op == 'contains' then
    if type(f) == 'string' then
      if type(v) ~= 'string' then return false end
      return string.find(f, v, 1, true) ~= nil
    end
    if type(f) == 'table' then return any_eq(f, v) end
    return false
  end
  if op == 'startswith' then
    return type(f) == 'string' and string.sub(f, 1, #v) == v
  end
  if op == 'endswith' then
    return type(f) == 'string' and (#v == 0 or string.sub(f, -#v) == v)
  end
  if op == 'isnull' then
    return (f == null) == v
  end
  return nil
end

local function lookup(doc, path)
  local cur = doc
  for i = 1, #path do
    if type(cur) ~= 'table' then return nil end
    cur = cur[path[i]]
    if cur == nil then return nil end
  end
  return cur
end

local function valid_utf8(s)
  s = string.gsub(s, '[\194-\223][\128-\191]', 'x')
  s = string.gsub(s, '\224[\160-\191][\128-\191]', 'x')
  s = string.gsub(s, '[\225-\236\238\239][\128-\191][\128-\191]', 'x')
  s = string.gsub(s, '\237[\128-\159][\128-\191]', 'x')
  s = string.gsub(s, '\240[\144-\191][\128-\191][\128-\191]', 'x')
  s = string.gsub(s, '[\241-\243][\128-\191][\128-\191][\128-\191]', 'x')
  s = string.gsub(s, '\244[\128-\143][\128-\191][\128-\191]', 'x')
  return not string.find(s, '[\128-\255]')
end

local function valid_number(t)
  local s = t
  if string.sub(s, 1, 1) == '-' then s = string.sub(s, 2) end
  local int = string.match(s, '^%d+')
  if not int then return false end
  if #int > 1 and string.sub(int, 1, 1) == '0' then return false end
  s = string.sub(s, #int + 1)
  if string.sub(s, 1, 1) == '.' then
    local frac = string.match(s, '^%.(%d+)')
    if not frac then return false end
    s = string.sub(s, #frac + 2)
  end
  if s ~= '' and not string.find(s, '^[eE][-+]?%d+$') then return false end
  local n = tonumber(t)
  return n ~= nil and n == n and n ~= huge and n ~= -huge
end

-- Whether serde_json might reject what cjson accepted: control characters, surrogate
-- escapes, invalid UTF-8, numbers outside strict JSON (hex, inf, nan, 1., 01, overflow),
-- deep nesting. False alarms only cost traffic.
local function suspicious(raw)
  if string.find(raw, '[%z\1-\31]') then return true end
  if string.find(raw, '\\u[dD][89a-fA-F]') then return true end
  if string.find(raw, '[\128-\255]') and not valid_utf8(raw) then return true end
  local bare = string.gsub(string.gsub(raw, '\\.', ''), '"[^"]*"', '""')
  for tok in string.gmatch(bare, '[^%s%[%]{}:,"]+') do
    if tok ~= 'true' and tok ~= 'false' and tok ~= 'null' and not valid_number(tok) then
      return true
    end
  end
  local depth = 0
  for b in string.gmatch(bare, '[%[{%]}]') do
    if b == '[' or b == '{' then
      depth = depth + 1
      if depth > 100 then return true end
    else
      depth = depth - 1
    end
  end
  return false
end

-- The common case cheaply: no control, non-ASCII or escape bytes, integer or literal tokens,
-- shallow nesting. Anything else gets the full check above.
local function suspicious_fast(raw)
  if string.find(raw, '[%z\1-\31\128-\255\\]') then return suspicious(raw) end
  local bare = string.gsub(raw, '"[^"]*"', '""')
  for tok in string.gmatch(bare, '[^%s%[%]{}:,"]+') do
    if tok ~= 'true' and tok ~= 'false' and tok ~= 'null' and tok ~= '0'
       and not string.find(tok, '^%-?[1-9]%d*$') and not valid_number(tok) then
      return true
    end
  end
  local _, opens = string.gsub(bare, '[%[{]', '')
  if opens > 100 then return suspicious(raw) end
  return false
end

local function keep(raw)
  if not string.find(raw, '^[ \t\n\r]*{') then return true end
  local ok, doc = pcall(cjson.decode, raw)
  if not ok or type(doc) ~= 'table' then return true end
  for _, c in ipairs(conds) do
    local f = lookup(doc, c[1])
    if f == nil then
      -- Django: a missing field is null, so only isnull=true holds.
      if not (c[2] == 'isnull' and c[3] == true) then return suspicious_fast(raw) end
    elseif eval(c[2], f, c[3]) == false then
      return suspicious_fast(raw)
    end
  end
  return true
end

local res = redis.call('HSCAN', KEYS[1], ARGV[1], 'COUNT', ARGV[2])
local out = {res[1]}
local items = res[2]
for i = 1, #items, 2 do
  if keep(items[i + 1]) then
    out[#out + 1] = items[i]
    out[#out + 1] = items[i + 1]
  end
end
return out
"#;

/// The filter as the script's `ARGV[3]`: `[[path, lookup, value], ...]`.
pub(crate) fn encode_filter(filter: &Filter) -> String {
    let conds: Vec<serde_json::Value> = filter
        .conditions()
        .iter()
        .map(|c| {
            let name = match c.lookup() {
                Lookup::Eq => "eq",
                other => other.name(),
            };
            serde_json::json!([c.path(), name, c.value()])
        })
        .collect();
    serde_json::Value::Array(conds).to_string()
}
