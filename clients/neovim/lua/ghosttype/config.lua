-- Options for require("ghosttype").setup(), their defaults and their validation.
local M = {}

---@class ghosttype.Keymaps
---@field accept string|false
---@field accept_word string|false
---@field accept_line string|false
---@field next string|false
---@field prev string|false
---@field dismiss string|false

---@class ghosttype.Config
---@field cmd string[]|nil      server command; nil means `ghosttype serve` found on PATH
---@field settings table        the ghosttype settings schema (camelCase keys, see interface.md)
---@field filetypes string[]|nil nil means every file buffer
---@field keymaps ghosttype.Keymaps
---@field highlight string      highlight group the ghost text is drawn with
---@field root_markers string[] markers that name the workspace folder sent to the server
---@field enabled boolean       whether suggestions are requested at start

M.defaults = {
  cmd = nil,
  settings = {},
  filetypes = nil,
  keymaps = {
    accept = "<Tab>",
    accept_word = "<M-Right>",
    accept_line = "<M-Down>",
    next = "<M-]>",
    prev = "<M-[>",
    dismiss = "<C-]>",
  },
  highlight = "GhosttypeSuggestion",
  root_markers = { "ghosttype.toml", ".git" },
  enabled = true,
}

local function list_of_strings(value)
  if type(value) ~= "table" then
    return false
  end
  for _, item in ipairs(value) do
    if type(item) ~= "string" or item == "" then
      return false
    end
  end
  return #value == vim.tbl_count(value)
end

local function key_or_false(value)
  return value == false or (type(value) == "string" and value ~= "")
end

--- Merges `opts` over the defaults and validates the result; errors name the bad option.
---@param opts table|nil
---@return ghosttype.Config
function M.resolve(opts)
  vim.validate("opts", opts, "table", true)
  local config = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts or {})
  -- `settings` and `keymaps` merge key by key; lists replace the default wholesale.
  for _, list in ipairs({ "cmd", "filetypes", "root_markers" }) do
    if opts and opts[list] ~= nil then
      config[list] = opts[list]
    end
  end
  vim.validate("cmd", config.cmd, function(v)
    return v == nil or (list_of_strings(v) and #v > 0)
  end, true, "a non-empty list of strings, e.g. { 'ghosttype', 'serve' }")
  vim.validate("settings", config.settings, "table")
  vim.validate("filetypes", config.filetypes, function(v)
    return v == nil or list_of_strings(v)
  end, true, "a list of filetypes")
  vim.validate("keymaps", config.keymaps, "table")
  for name in pairs(config.keymaps) do
    if M.defaults.keymaps[name] == nil then
      error(
        ("keymaps.%s: unknown keymap (known: %s)"):format(
          name,
          table.concat(vim.tbl_keys(M.defaults.keymaps), ", ")
        )
      )
    end
    vim.validate("keymaps." .. name, config.keymaps[name], key_or_false, "a key (string) or false")
  end
  vim.validate("highlight", config.highlight, "string")
  vim.validate("root_markers", config.root_markers, list_of_strings, "a list of file names")
  vim.validate("enabled", config.enabled, "boolean")
  for name in pairs(config) do
    if M.defaults[name] == nil and name ~= "cmd" and name ~= "filetypes" then
      error(("ghosttype.setup: unknown option %q"):format(name))
    end
  end
  return config
end

return M
