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

---@return vim.lsp.Client[]
function M.clients()
  return vim.lsp.get_clients({ name = M.NAME })
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

local function settings_section(client, section)
  local settings = client and client.settings or {}
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

--- Starts the server for `buf` (or attaches the running one).
---@param buf integer
---@return integer|nil client_id
function M.start(buf)
  if not M.wants(buf) then
    return nil
  end
  local existing = M.get_client(buf)
  if existing then
    return existing.id
  end
  local cmd, why = M.resolve_cmd()
  if not cmd then
    vim.notify_once("ghosttype: " .. why, vim.log.levels.WARN)
    return nil
  end
  local file = vim.api.nvim_buf_get_name(buf)
  local settings = vim.deepcopy(M.config.settings)
  return vim.lsp.start({
    name = M.NAME,
    cmd = cmd,
    root_dir = vim.fs.root(buf, M.config.root_markers) or vim.fs.dirname(file),
    init_options = settings,
    settings = { ghosttype = settings },
    handlers = handlers,
    on_exit = function(code, signal, client_id)
      M.status[client_id] = nil
      M.log(("server exited (code %s, signal %s)"):format(code, signal))
    end,
  }, { bufnr = buf, reuse_client = reuse_client })
end

--- Replaces the settings in force and tells running servers, which apply them without a restart.
---@param settings table
function M.set_settings(settings)
  M.config.settings = settings
  for _, client in ipairs(M.clients()) do
    client.settings = { ghosttype = vim.deepcopy(settings) }
    client:notify("workspace/didChangeConfiguration", { settings = client.settings })
  end
end

--- Stops the running servers and starts one again for the buffers they served.
---@param on_started fun()|nil
function M.restart(on_started)
  local buffers = {}
  local clients = M.clients()
  for _, client in ipairs(clients) do
    for buf in pairs(client.attached_buffers) do
      buffers[#buffers + 1] = buf
    end
    client:stop()
  end
  if #buffers == 0 and vim.api.nvim_buf_is_valid(0) then
    buffers[1] = vim.api.nvim_get_current_buf()
  end
  local timer = assert(vim.uv.new_timer())
  local waited = 0
  -- Poll until the old processes have gone (force-stop after 3 s), then start afresh.
  timer:start(
    50,
    50,
    vim.schedule_wrap(function()
      waited = waited + 50
      local alive = vim.tbl_filter(function(client)
        return vim.lsp.get_client_by_id(client.id) ~= nil
      end, clients)
      if #alive > 0 and waited < 3000 then
        return
      end
      for _, client in ipairs(alive) do
        client:stop(true)
      end
      timer:stop()
      timer:close()
      for _, buf in ipairs(buffers) do
        M.start(buf)
      end
      M.log("server restarted")
      if on_started then
        on_started()
      end
    end)
  )
end

return M
