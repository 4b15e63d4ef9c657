-- Starting, finding and restarting the ghosttype language server, and what it tells us about
-- itself (its `ghosttype/status` notifications and log messages).
local M = {}

M.NAME = "ghosttype"

---@type ghosttype.Config
M.config = nil

--- The last `ghosttype/status` notification per client id: { state = ..., message = ... }.
---@type table<integer, {state: string, message: string}>
M.status = {}

-- A short in-memory log for `:Ghosttype log`: status changes, server messages, request errors.
local LOG_LINES = 500
local log_lines = {}

---@param message string
function M.log(message)
  local line = os.date("%H:%M:%S ") .. message:gsub("\n", "\\n")
  log_lines[#log_lines + 1] = line
  if #log_lines > LOG_LINES then
    table.remove(log_lines, 1)
  end
end

---@return string[]
function M.log_lines()
  return vim.list_slice(log_lines, 1)
end

--- The command that starts the server, or nil and the reason it cannot be found.
---@return string[]|nil, string|nil
function M.resolve_cmd()
  local cmd = M.config.cmd
  if cmd then
    if vim.fn.executable(cmd[1]) == 1 then
      return cmd
    end
    return nil, ("cmd[1] %q is not executable"):format(cmd[1])
  end
  if vim.fn.executable("ghosttype") == 1 then
    return { "ghosttype", "serve" }
  end
  return nil, "`ghosttype` is not on PATH (pip install ghosttype, or set cmd in setup())"
end

---@param buf integer|nil
---@return vim.lsp.Client|nil
function M.get_client(buf)
  return vim.lsp.get_clients({ name = M.NAME, bufnr = buf })[1]
end

--- The buffer's client when it can take a message now: initialized and not stopping.
---@return vim.lsp.Client|nil
function M.running_client(buf)
  local client = M.get_client(buf)
  if client and client.initialized and not client:is_stopped() then
    return client
  end
  return nil
end

---@return vim.lsp.Client[]
function M.clients()
  return vim.lsp.get_clients({ name = M.NAME })
end

--- Also the servers still in `initialize` (or hung in it), which get_clients() leaves out unless
--- asked with the filter Neovim's own vim.lsp.enable() uses.
---@return vim.lsp.Client[]
function M.all_clients()
  return vim.lsp.get_clients({ name = M.NAME, _uninitialized = true })
end

--- Whether ghosttype should attach to `buf`: a normal file buffer of an enabled filetype.
---@param buf integer
function M.wants(buf)
  if not vim.api.nvim_buf_is_valid(buf) or vim.bo[buf].buftype ~= "" then
    return false
  end
  if vim.api.nvim_buf_get_name(buf) == "" then
    return false
  end
  local filetypes = M.config.filetypes
  return filetypes == nil or vim.list_contains(filetypes, vim.bo[buf].filetype)
end

--- The settings as they go on the wire. Lua's `{}` has no JSON type of its own (vim.json writes
--- an empty table as an array), so empty tables that stand for objects (a section, or
--- enable.languages) are left out; an empty list (context.exclude = {}) stays a list.
---@param settings table
---@return table
function M.wire_settings(settings)
  local out = {}
  for section, entries in pairs(settings or {}) do
    if type(entries) == "table" then
      entries = vim.deepcopy(entries)
      if section == "enable" and type(entries.languages) == "table" and next(entries.languages) == nil then
        entries.languages = nil
      end
      if next(entries) ~= nil then
        out[section] = entries
      end
    else
      out[section] = entries
    end
  end
  return out
end

--- The settings object for a message: a JSON object even when empty.
---@param settings table
---@return table
local function object(settings)
  return next(settings) == nil and vim.empty_dict() or settings
end

local function settings_section(client, section)
  local settings = { ghosttype = object(M.wire_settings(vim.tbl_get(client or {}, "settings", "ghosttype"))) }
  if section == nil or section == "" then
    return settings
  end
  local value = vim.tbl_get(settings, unpack(vim.split(section, ".", { plain = true })))
  if value == nil then
    return vim.NIL
  end
  return value
end

local handlers = {}

-- Answered for every item (Neovim's default handler skips items without a section, which would
-- shift the answers out of line with the items).
handlers["workspace/configuration"] = function(_, params, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  local answers = {}
  for index, item in ipairs(params and params.items or {}) do
    answers[index] = settings_section(client, item.section)
  end
  return answers
end

handlers["ghosttype/status"] = function(_, params, ctx)
  if type(params) ~= "table" or type(params.state) ~= "string" then
    return
  end
  local previous = M.status[ctx.client_id]
  local status = { state = params.state, message = tostring(params.message or "") }
  M.status[ctx.client_id] = status
  if not previous or previous.state ~= status.state or previous.message ~= status.message then
    M.log(("status %s: %s"):format(status.state, status.message))
  end
  if status.state == "error" and (not previous or previous.state ~= "error") then
    vim.notify("ghosttype: " .. status.message, vim.log.levels.WARN)
  end
  vim.api.nvim_exec_autocmds("User", {
    pattern = "GhosttypeStatus",
    modeline = false,
    data = { client_id = ctx.client_id, state = status.state, message = status.message },
  })
  vim.cmd.redrawstatus({ bang = true })
end

-- The pause role has a better answer for the place of the shown suggestion (see suggestion.lua).
handlers["ghosttype/refreshInlineCompletion"] = function(_, params, ctx)
  require("ghosttype.suggestion").refresh(params, ctx.client_id)
end

local function log_message(default)
  return function(err, params, ctx)
    if params and params.message then
      M.log(("server: %s"):format(params.message))
    end
    return default(err, params, ctx)
  end
end
handlers["window/logMessage"] = log_message(vim.lsp.handlers["window/logMessage"])
handlers["window/showMessage"] = log_message(vim.lsp.handlers["window/showMessage"])

--- One server for every buffer: the model is loaded once, whatever folder a file is in.
local function reuse_client(client, config)
  return client.name == config.name and not client:is_stopped()
end

--- The workspace folder sent to the server for `buf`; called by vim.lsp.enable()'s FileType
--- autocommand, and ghosttype starts (or attaches) only where it calls `on_dir`.
local function root_dir(buf, on_dir)
  if M.config and M.wants(buf) then
    on_dir(vim.fs.root(buf, M.config.root_markers) or vim.fs.dirname(vim.api.nvim_buf_get_name(buf)))
  end
end

--- The configuration handed to vim.lsp.config(), from the resolved setup() options.
---@param config ghosttype.Config
---@return vim.lsp.Config
function M.lsp_config(config)
  local settings = M.wire_settings(config.settings)
  return {
    cmd = config.cmd or { "ghosttype", "serve" },
    filetypes = config.filetypes,
    root_dir = root_dir,
    reuse_client = reuse_client,
    -- Left out when empty: nothing to send, and no empty table to go out as a JSON array.
    init_options = next(settings) and settings or nil,
    settings = next(settings) and { ghosttype = settings } or {},
    handlers = handlers,
    on_exit = function(code, signal, client_id)
      M.status[client_id] = nil
      M.log(("server exited (code %s, signal %s)"):format(code, signal))
    end,
  }
end

local configured = false

--- Hands the configuration to vim.lsp.config() and enables it: Neovim then starts the server (or
--- attaches the running one) for each buffer whose filetype is set, and for those already open.
--- What a user adds with vim.lsp.config("ghosttype", {...}) before the first setup() is kept.
function M.enable()
  if configured then
    -- vim.lsp.config() merges into what is there; a second setup() replaces the first one's.
    vim.lsp.config[M.NAME] = {}
  end
  vim.lsp.config(M.NAME, M.lsp_config(M.config))
  configured = true
  vim.lsp.enable(M.NAME)
end

--- Replaces the settings in force and tells running servers, which apply them without a restart.
---@param settings table
function M.set_settings(settings)
  M.config.settings = settings
  local wire = M.wire_settings(settings)
  for _, client in ipairs(M.all_clients()) do
    client.settings = next(wire) and { ghosttype = wire } or {}
    -- One still starting asks for them with workspace/configuration once initialized.
    if client.initialized then
      client:notify(
        "workspace/didChangeConfiguration",
        { settings = { ghosttype = object(vim.deepcopy(wire)) } }
      )
    end
  end
end

--- Stops the running servers and starts one again for the buffers that want it.
---@param on_started fun()|nil
function M.restart(on_started)
  local clients = M.all_clients()
  -- Disabling stops the clients and keeps new buffers from starting one meanwhile.
  vim.lsp.enable(M.NAME, false)
  local timer = assert(vim.uv.new_timer())
  local waited = 0
  -- Poll until the old processes have gone (force-stop after 3 s), then start afresh.
  timer:start(
    0,
    50,
    vim.schedule_wrap(function()
      local alive = vim.tbl_filter(function(client)
        return vim.lsp.get_client_by_id(client.id) ~= nil
      end, clients)
      waited = waited + 50
      if #alive > 0 and waited < 3000 then
        return
      end
      for _, client in ipairs(alive) do
        client:stop(true)
      end
      timer:stop()
      timer:close()
      vim.lsp.enable(M.NAME)
      M.log("server restarted")
      if on_started then
        on_started()
      end
    end)
  )
end

return M
