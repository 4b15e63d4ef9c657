-- ghosttype for Neovim: AI ghost-text completions from the ghosttype language server.
-- `require("ghosttype").setup({...})` is all a user calls; see :help ghosttype.
local config = require("ghosttype.config")
local cursor = require("ghosttype.cursor")
local keymaps = require("ghosttype.keymaps")
local server = require("ghosttype.server")
local suggestion = require("ghosttype.suggestion")

local M = {}

local function define_highlights()
  -- `default = true`: a colorscheme or the user's own :highlight wins. A real ctermfg, because
  -- `Comment` has no terminal colour in 0.11 and the ghost would look like typed text.
  vim.api.nvim_set_hl(0, "GhosttypeSuggestion", {
    default = true,
    fg = "#808080",
    ctermfg = 244,
    italic = true,
    cterm = { italic = true },
  })
  vim.api.nvim_set_hl(0, "GhosttypeCount", { default = true, link = "GhosttypeSuggestion" })
end

local function on_attach(buf, client_id)
  -- Neovim 0.12's built-in inline completion would draw a second ghost for the same server.
  local builtin = vim.lsp.inline_completion
  if builtin and builtin.enable then
    pcall(builtin.enable, false, { bufnr = buf, client_id = client_id })
  end
  suggestion.attach(buf)
  cursor.attach(buf)
  keymaps.attach(buf, server.config.keymaps)
end

local function on_detach(buf)
  suggestion.detach(buf)
  cursor.detach(buf)
  keymaps.detach(buf, server.config.keymaps)
end

--- Configures ghosttype (vim.lsp.config("ghosttype", ...) and vim.lsp.enable("ghosttype")), so the
--- server starts for matching buffers. Calling it again replaces the configuration (restart with
--- `:Ghosttype restart` for a new `cmd`).
---@param opts table|nil see :help ghosttype-setup
function M.setup(opts)
  if vim.fn.has("nvim-0.11") == 0 then
    vim.notify("ghosttype needs Neovim 0.11 or newer", vim.log.levels.ERROR)
    return
  end
  local resolved = config.resolve(opts)
  local previous = server.config
  server.config = resolved
  suggestion.set_enabled(resolved.enabled)
  if previous then
    server.set_settings(resolved.settings)
  end
  define_highlights()
  require("ghosttype.commands").define()

  local group = vim.api.nvim_create_augroup("ghosttype", { clear = true })
  require("ghosttype.actions").setup(group)
  vim.api.nvim_create_autocmd("ColorScheme", { group = group, callback = define_highlights })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    callback = function(event)
      -- vim.lsp.enable() only logs a command that is not executable; say it once where it shows.
      local _, why = server.resolve_cmd()
      if why and server.wants(event.buf) then
        vim.notify_once("ghosttype: " .. why, vim.log.levels.WARN)
      end
    end,
  })
  vim.api.nvim_create_autocmd("LspAttach", {
    group = group,
    callback = function(event)
      local client = vim.lsp.get_client_by_id(event.data.client_id)
      if client and client.name == server.NAME then
        on_attach(event.buf, client.id)
      end
    end,
  })
  vim.api.nvim_create_autocmd("LspDetach", {
    group = group,
    callback = function(event)
      local client = vim.lsp.get_client_by_id(event.data.client_id)
      if client and client.name == server.NAME then
        on_detach(event.buf)
      end
    end,
  })
  -- The LSP configuration goes last: vim.lsp.enable() starts the server for the open buffers at
  -- once (when setup() runs after startup), and LspAttach above must be defined by then.
  server.enable()
end

--- Accepts the shown suggestion, or its next word or line. Returns false when none is shown, so
--- it can sit inside a user's own <Tab> mapping.
---@param how "all"|"word"|"line"|nil
function M.accept(how)
  return suggestion.accept(how or "all")
end

M.is_visible = suggestion.visible
M.dismiss = suggestion.dismiss

function M.next()
  suggestion.cycle(1)
end

function M.prev()
  suggestion.cycle(-1)
end

--- Asks for a suggestion now (insert mode).
function M.suggest()
  suggestion.request(nil, "invoked")
end

---@param on boolean|nil nil toggles
function M.enable(on)
  if on == nil then
    on = not suggestion.enabled
  end
  suggestion.set_enabled(on)
  vim.cmd.redrawstatus({ bang = true })
end

--- The last `ghosttype/status` the buffer's server sent, or nil when none serves it.
---@param buf integer|nil
---@return {state: string, message: string}|nil
function M.status(buf)
  local client = server.get_client(buf or vim.api.nvim_get_current_buf())
  if not client then
    return nil
  end
  if not suggestion.enabled then
    return { state = "disabled", message = "turned off with :Ghosttype disable" }
  end
  return server.status[client.id] or { state = "loading", message = "starting" }
end

--- A statusline component: "ghosttype:ready", "ghosttype:busy", … or "" where ghosttype is not
--- attached; while a code action runs, its progress follows ("ghosttype:ready Write docstring:
--- writing the docstring"). Example: vim.o.statusline = "%f %= %{v:lua.require'ghosttype'.statusline()}"
---@return string
function M.statusline()
  local status = M.status()
  if not status then
    return ""
  end
  local client = server.get_client(vim.api.nvim_get_current_buf())
  local running = client and require("ghosttype.actions").progress(client.id) or ""
  return "ghosttype:" .. status.state .. (running ~= "" and (" " .. running) or "")
end

return M
