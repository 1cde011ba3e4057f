-- MongoDB's $text search as the server's text indexes use it: language "none" (the server's
-- DEFAULT_FULLTEXT_INDEX_LANGUAGE default), so no stemming and no stop words.
--   * words are runs of letters, digits and "_" (any other ASCII character delimits; bytes
--     above 127 are kept as part of words); matching is case-insensitive, whole words;
--   * the terms of a search are OR'ed; a "quoted phrase" must appear (case-insensitive) and
--     every phrase must; a -term excludes the documents holding it; a search of only
--     negated terms matches nothing.
-- compile(search) returns a function of a list of indexed strings giving a score (a number
-- > 0) or nil. The score counts matched words and phrases; MongoDB weighs them differently
-- (a documented difference): only the order of strong and weak matches is comparable.
local _M = {}

local function words(s)
  local out = {}
  for w in s:lower():gmatch("[%w_\128-\255]+") do out[#out + 1] = w end
  return out
end

local function parse(search)
  local phrases, negated, terms = {}, {}, {}
  local rest = search:gsub('"([^"]*)"', function(p)
    local phrase = p:lower():match("^%s*(.-)%s*$")
    if phrase ~= "" then phrases[#phrases + 1] = phrase end
    return " "
  end)
  for token in rest:gmatch("%S+") do
    local neg = token:sub(1, 1) == "-"
    for _, w in ipairs(words(neg and token:sub(2) or token)) do
      if neg then negated[w] = true else terms[#terms + 1] = w end
    end
  end
  return phrases, negated, terms
end

function _M.compile(search)
  local phrases, negated, terms = parse(tostring(search or ""))
  return function(texts)
    local counts = {}
    local joined = {}
    for _, t in ipairs(texts) do
      if type(t) == "string" and t ~= "" then
        joined[#joined + 1] = t:lower()
        for _, w in ipairs(words(t)) do counts[w] = (counts[w] or 0) + 1 end
      end
    end
    for w in pairs(negated) do if counts[w] then return nil end end
    local all = table.concat(joined, "\n")
    local score = 0
    for _, p in ipairs(phrases) do
      if not all:find(p, 1, true) then return nil end
      score = score + 1
    end
    local any_term = false
    for _, w in ipairs(terms) do
      if counts[w] then any_term, score = true, score + counts[w] end
    end
    if #terms > 0 and not any_term and #phrases == 0 then return nil end
    if score == 0 then return nil end
    return score
  end
end

return _M
