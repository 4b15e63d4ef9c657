-- Buffer-local insert-mode keys. Each key does its ghosttype action only while a suggestion is
-- shown; otherwise it does what it would have done without ghosttype: <Tab> selects the next item
-- of a visible completion menu, else runs the mapping it had before (buffer-local or global), else
-- is a plain Tab.
local suggestion = require("ghosttype.suggestion")

local M = {}

local DESC = "ghosttype: "

local ACTIONS = {
  accept = { call = "accept('all')", desc = "accept the suggestion" },
  accept_word = { call = "accept('word')", desc = "accept the next word of the suggestion" },
  accept_line = { call = "accept('line')", desc = "accept the next line of the suggestion" },
  next = { call = "cycle(1)", desc = "next suggestion", always = true },
  prev = { call = "cycle(-1)", desc = "previous suggestion", always = true },
  dismiss = { call = "dismiss()", desc = "dismiss the suggestion" },
}

--- Buffer-local mappings that ghosttype's replaced, per buffer and key: put back on detach and run
--- as the fallback meanwhile.
---@type table<integer, table<string, table>>
local replaced = {}

--- A non-expr Lua mapping to run as a fallback (expr mappings may not run it themselves: textlock).
local pending

local function is_ours(map)
  return map and (map.desc or ""):sub(1, #DESC) == DESC
end

--- The mapping `lhs` has in insert mode for `buf` apart from ghosttype's own: the buffer-local one
--- ghosttype replaced, else the global one now in force.
local function previous_mapping(buf, lhs)
  local own = replaced[buf] and replaced[buf][lhs]
  if own then
    return own
  end
  local keys = vim.keycode(lhs)
  for _, map in ipairs(vim.api.nvim_get_keymap("i")) do
    if vim.keycode(map.lhs) == keys and not is_ours(map) then
      return map
    end
  end
  return nil
end

--- The keys to type for `map`, and whether they are remapped.
local function mapping_keys(map)
  if map.callback then
    if map.expr ~= 1 then
      pending = map.callback
      return vim.keycode("<Cmd>lua require('ghosttype.keymaps').run_pending()<CR>"), false
    end
    local keys = map.callback() or ""
    if map.replace_keycodes == 1 then
      keys = vim.keycode(keys)
    end
    return keys, map.noremap ~= 1
  end
  local rhs = map.rhs or ""
  if map.expr == 1 then
    return vim.api.nvim_eval(rhs), map.noremap ~= 1
  end
  return vim.api.nvim_replace_termcodes(rhs, true, true, true), map.noremap ~= 1
end

function M.run_pending()
  local callback = pending
  pending = nil
  if callback then
    callback()
  end
end

--- What `lhs` does in `buf` without ghosttype, as keys for an expr mapping to return.
---@param buf integer
---@param lhs string
---@return string
function M.fallback(buf, lhs)
  local keys = vim.keycode(lhs)
  if keys == vim.keycode("<Tab>") and vim.fn.pumvisible() == 1 then
    return vim.keycode("<C-n>")
  end
  local map = previous_mapping(buf, lhs)
  if not map then
    return keys -- the key's own meaning: a noremap expr mapping returns it unmapped
  end
  local rhs, remap = mapping_keys(map)
  if not remap then
    return rhs
  end
  -- A recursive mapping: feed its keys to be mapped again, except a leading `lhs`, which Vim
  -- itself does not map again (and which here would come back to ghosttype's mapping).
  local rest = rhs
  if vim.startswith(rhs, keys) then
    rest = rhs:sub(#keys + 1)
  end
  vim.api.nvim_feedkeys(rest, "im", false)
  if rest ~= rhs then
    return keys
  end
  return ""
end

---@param buf integer
---@param keymaps ghosttype.Keymaps
function M.attach(buf, keymaps)
  replaced[buf] = replaced[buf] or {}
  for name, action in pairs(ACTIONS) do
    local lhs = keymaps[name]
    if lhs then
      local existing = vim.fn.maparg(lhs, "i", false, true)
      if existing.buffer == 1 and not is_ours(existing) then
        replaced[buf][lhs] = existing
      end
      -- The edit itself runs from <Cmd>: an expr mapping may not change the buffer.
      local rhs = vim.keycode(("<Cmd>lua require('ghosttype.suggestion').%s<CR>"):format(action.call))
      vim.keymap.set("i", lhs, function()
        -- next/prev also ask for a suggestion when none is shown (a manual trigger).
        if suggestion.visible(buf) or (action.always and suggestion.enabled) then
          return rhs
        end
        return M.fallback(buf, lhs)
      end, { buffer = buf, expr = true, replace_keycodes = false, desc = DESC .. action.desc })
    end
  end
end

---@param buf integer
---@param keymaps ghosttype.Keymaps
function M.detach(buf, keymaps)
  for name in pairs(ACTIONS) do
    local lhs = keymaps[name]
    if lhs then
      pcall(vim.keymap.del, "i", lhs, { buffer = buf })
    end
  end
  for _, map in pairs(replaced[buf] or {}) do
    if vim.api.nvim_buf_is_valid(buf) then
      vim.api.nvim_buf_call(buf, function()
        vim.fn.mapset("i", false, map)
      end)
    end
  end
  replaced[buf] = nil
end

return M
