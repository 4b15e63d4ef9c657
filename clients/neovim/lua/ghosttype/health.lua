-- :checkhealth ghosttype — server found, its version, model ready, backend reachable.
local server = require("ghosttype.server")

local M = {}

local function toml_key(key)
  return key:match("^[%w_-]+$") and key or ('"' .. key:gsub('[\\"]', "\\%0") .. '"')
end

local function toml_value(value)
  if type(value) == "string" then
    local escaped = value:gsub('[\\"]', "\\%0"):gsub("%c", function(c)
      return ("\\u%04X"):format(c:byte())
    end)
    return '"' .. escaped .. '"'
  elseif type(value) == "table" then
    return "[" .. table.concat(vim.tbl_map(toml_value, value), ", ") .. "]"
  end
  return tostring(value)
end

--- The settings table as TOML, so `ghosttype doctor --config` checks what the editor uses.
---@param settings table
---@return string
function M.to_toml(settings)
  local out = {}
  local function section(path, tbl)
    local tables = {}
    local header_done = path == ""
    for key, value in vim.spairs(tbl) do
      if type(value) == "table" and not vim.islist(value) then
        tables[#tables + 1] = key
      elseif type(value) ~= "table" or #value > 0 or next(value) == nil then
        if not header_done then
          out[#out + 1] = ("[%s]"):format(path)
          header_done = true
        end
        out[#out + 1] = ("%s = %s"):format(toml_key(key), toml_value(value))
      end
    end
    for _, key in ipairs(tables) do
      section(path == "" and toml_key(key) or (path .. "." .. toml_key(key)), tbl[key])
    end
  end
  section("", settings)
  return table.concat(out, "\n") .. "\n"
end

--- The server command with `serve` (and what follows) replaced by `extra`.
local function subcommand(cmd, extra)
  local out = {}
  for _, part in ipairs(cmd) do
    if part == "serve" then
      break
    end
    out[#out + 1] = part
  end
  return vim.list_extend(out, extra)
end

-- :checkhealth waits for nothing longer than this, all checks together, whatever hangs.
M.BUDGET_MS = 2500

---@class ghosttype.HealthJob
---@field done boolean
---@field code integer|nil
---@field stdout string[]
---@field stderr string[]
---@field process vim.SystemObj|nil

--- Starts `argv` without waiting; its output is gathered as it comes, so a run stopped at the
--- deadline still shows what it printed.
---@return ghosttype.HealthJob
local function spawn(argv)
  local job = { done = false, stdout = {}, stderr = {} }
  local function gather(into)
    return function(_, data)
      if data then
        into[#into + 1] = data
      end
    end
  end
  local ok, process = pcall(vim.system, argv, {
    text = true,
    -- Its own process group, so stopping it at the deadline stops what it started too.
    detach = true,
    stdout = gather(job.stdout),
    stderr = gather(job.stderr),
  }, function(result)
    job.code = result.code
    job.done = true
  end)
  if ok then
    job.process = process
  else
    job.done, job.code, job.stderr = true, -1, { tostring(process) }
  end
  return job
end

local function stop(job)
  if job.done or not job.process then
    return
  end
  pcall(vim.uv.kill, -job.process.pid, "sigkill")
  pcall(job.process.kill, job.process, "sigkill")
end

local function seconds(ms)
  return ("%.1f s"):format(ms / 1000)
end

--- Asks a running server for its counters, to see that it answers requests; a server still in
--- `initialize` is asked once it has answered that.
local function ask(query)
  local client = query.client
  if query.sent or not client.initialized or client:is_stopped() then
    return
  end
  query.sent = true
  local ok, id = client:request(
    "workspace/executeCommand",
    { command = "ghosttype.stats" },
    function(err, result)
      query.done, query.err, query.result = true, err, result
    end
  )
  if ok then
    query.id = id
  else
    query.done, query.err = true, { message = "the request could not be sent" }
  end
end

local function settled(query)
  ask(query)
  return query.done or query.client:is_stopped()
end

function M.check()
  local health = vim.health
  local started = vim.uv.hrtime()
  local function elapsed_ms()
    return (vim.uv.hrtime() - started) / 1e6
  end
  health.start("ghosttype")
  if vim.fn.has("nvim-0.11") == 1 then
    health.ok("Neovim " .. tostring(vim.version()))
  else
    health.error("Neovim 0.11 or newer is needed")
  end
  if not server.config then
    health.error("setup() has not been called", { "require('ghosttype').setup({})" })
    return
  end

  local cmd, why = server.resolve_cmd()
  if not cmd then
    health.error("server not found: " .. why, { "pip install ghosttype", "or setup({ cmd = {...} })" })
    return
  end
  health.ok("server command: " .. table.concat(cmd, " ") .. " (" .. vim.fn.exepath(cmd[1]) .. ")")

  -- What may take long or hang runs at once, under one deadline: `ghosttype doctor` with the
  -- editor's settings (model file, backend reachability, configuration) and a request to each
  -- running server.
  local config_file = vim.fn.tempname() .. ".toml"
  vim.fn.writefile(vim.split(M.to_toml(server.config.settings), "\n"), config_file)
  local doctor = spawn(subcommand(cmd, { "doctor", "--config", config_file }))
  local clients = server.all_clients()
  local queries = vim.tbl_map(function(client)
    return { client = client }
  end, clients)
  vim.wait(math.max(0, M.BUDGET_MS - elapsed_ms()), function()
    local all = doctor.done
    for _, query in ipairs(queries) do
      all = settled(query) and all
    end
    return all
  end, 20)
  stop(doctor)
  vim.fn.delete(config_file)
  for _, query in ipairs(queries) do
    if not query.done and query.id and not query.client:is_stopped() then
      query.client:cancel_request(query.id)
    end
  end
  local waited = seconds(elapsed_ms())

  local doctor_lines = vim.split(table.concat(doctor.stdout), "\n", { trimempty = true })
  local version = clients[1] and clients[1].server_info and clients[1].server_info.version
  if version then
    health.ok(("version: %s %s"):format(clients[1].server_info.name or "ghosttype", version))
  elseif doctor_lines[1] and doctor_lines[1]:match("^ghosttype ") then
    health.ok("version: " .. doctor_lines[1])
  else
    health.warn("version: unknown (no running server told it, and `ghosttype doctor` did not)")
  end

  if #clients == 0 then
    health.info("no server running in this Neovim (it starts when a matching file is opened)")
  end
  for _, query in ipairs(queries) do
    local client = query.client
    local label = ("running server %d"):format(client.id)
    local status = server.status[client.id]
    if not client.initialized then
      health.error(
        ("%s: the server did not answer `initialize` (waited %s)"):format(label, waited),
        { "`:Ghosttype log` and the LSP log (" .. vim.lsp.log.get_filename() .. ") show its output" }
      )
    elseif not query.done then
      health.error(
        ("%s: the server did not answer a request (workspace/executeCommand ghosttype.stats) within %s"):format(
          label,
          waited
        ),
        { "`:Ghosttype restart`" }
      )
    elseif query.err then
      health.warn(
        ("%s: ghosttype.stats failed: %s"):format(label, query.err.message or vim.inspect(query.err))
      )
    else
      local stats = type(query.result) == "table" and query.result or {}
      health.ok(("%s answers requests (%s so far)"):format(label, tostring(stats.requests or 0)))
    end
    if client.initialized then
      if not status then
        health.warn(label .. ": no status received yet")
      elseif status.state == "ready" or status.state == "busy" then
        health.ok(("%s: model ready, backend reachable (%s) %s"):format(label, status.state, status.message))
      elseif status.state == "loading" then
        health.warn(label .. ": model loading: " .. status.message)
      elseif status.state == "disabled" then
        health.warn(label .. ": disabled: " .. status.message)
      else
        health.error(label .. ": " .. status.message)
      end
    end
  end

  local report = doctor.code == 0 and health.ok or health.error
  if not doctor.done then
    report = health.info
  end
  local rest = vim.list_slice(doctor_lines, (doctor_lines[1] or ""):match("^ghosttype ") and 2 or 1)
  vim.list_extend(rest, vim.split(table.concat(doctor.stderr), "\n", { trimempty = true }))
  for _, line in ipairs(rest) do
    report("doctor: " .. vim.trim(line))
  end
  if not doctor.done then
    health.warn(("`ghosttype doctor` did not finish within %s and was stopped"):format(waited), {
      ("run it in a terminal for every check: %s"):format(table.concat(subcommand(cmd, { "doctor" }), " ")),
    })
  elseif doctor.code ~= 0 then
    health.error(("`ghosttype doctor` exited with %s"):format(tostring(doctor.code)))
  end
end

return M
