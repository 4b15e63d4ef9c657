-- Buffer-local insert-mode keys. Each key does its ghosttype action only while a suggestion is
-- shown and otherwise types itself, so <Tab> stays a normal Tab.
local suggestion = require("ghosttype.suggestion")

local M = {}

local ACTIONS = {
  accept = { call = "accept('all')", desc = "accept the suggestion" },
  accept_word = { call = "accept('word')", desc = "accept the next word of the suggestion" },
  accept_line = { call = "accept('line')", desc = "accept the next line of the suggestion" },
  next = { call = "cycle(1)", desc = "next suggestion", always = true },
  prev = { call = "cycle(-1)", desc = "previous suggestion", always = true },
  dismiss = { call = "dismiss()", desc = "dismiss the suggestion" },
}

---@param buf integer
---@param keymaps ghosttype.Keymaps
function M.attach(buf, keymaps)
  for name, action in pairs(ACTIONS) do
    local lhs = keymaps[name]
    if lhs then
      -- The edit itself runs from <Cmd>: an expr mapping may not change the buffer.
      local rhs = ("<Cmd>lua require('ghosttype.suggestion').%s<CR>"):format(action.call)
      vim.keymap.set("i", lhs, function()
        -- next/prev also ask for a suggestion when none is shown (a manual trigger).
        if suggestion.visible(buf) or (action.always and suggestion.enabled) then
          return rhs
        end
        return lhs
      end, { buffer = buf, expr = true, replace_keycodes = true, desc = "ghosttype: " .. action.desc })
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
end

return M
