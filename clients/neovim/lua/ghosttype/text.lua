-- Pure string helpers for suggestions: no editor state here, so they are easy to reason about.
local M = {}

-- Word characters for partial accept: ASCII alphanumerics, "_" and any multibyte UTF-8 byte, so a
-- word in Cyrillic or CJK is accepted as a whole rather than byte by byte.
local WORD = "[%w_\128-\255]"

--- The text an item inserts. Snippets (`StringValue`) are reduced to their plain text, because
--- ghost text shows literal characters and partial accepts cut it anywhere.
---@param insert_text string|{kind: string, value: string}
---@return string
function M.plain(insert_text)
  if type(insert_text) == "string" then
    return insert_text
  end
  local value = insert_text and insert_text.value or ""
  value = value:gsub("%${%d+:([^}]*)}", "%1"):gsub("%${%d+}", ""):gsub("%$%d+", "")
  return (value:gsub("\\([%$}\\])", "%1"))
end

---@param text string
---@return string[]
function M.lines(text)
  return vim.split(text, "\n", { plain = true })
end

--- The next word of `text`: leading whitespace (newlines included) plus one run of word characters,
--- or else one run of other non-space characters. Like VS Code's and copilot.lua's "accept word".
---@param text string
---@return string
function M.next_word(text)
  local space = text:match("^%s*")
  local rest = text:sub(#space + 1)
  local word = rest:match("^" .. WORD .. "+") or rest:match("^[^%s%w_\128-\255]+") or ""
  return space .. word
end

--- The rest of the current line of `text`; when `text` starts at a line break, that break plus the
--- next line (so repeated "accept line" walks down a multi-line suggestion one line at a time).
---@param text string
---@return string
function M.next_line(text)
  local start = text:sub(1, 1) == "\n" and 2 or 1
  local stop = text:find("\n", start, true)
  return stop and text:sub(1, stop - 1) or text
end

--- Expands tabs for display in virtual text, which does not expand them itself.
---@param text string
---@param start_vcol integer display column where `text` starts (0-based)
---@param tabstop integer
---@return string
function M.expand_tabs(text, start_vcol, tabstop)
  if not text:find("\t", 1, true) then
    return text
  end
  local out, vcol = {}, start_vcol
  for char in text:gmatch("[%z\1-\127\194-\244][\128-\191]*") do
    if char == "\t" then
      local width = tabstop - (vcol % tabstop)
      out[#out + 1] = string.rep(" ", width)
      vcol = vcol + width
    else
      out[#out + 1] = char
      vcol = vcol + vim.fn.strdisplaywidth(char)
    end
  end
  return table.concat(out)
end

return M
