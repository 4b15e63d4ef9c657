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

local function run(argv, timeout_ms)
  local ok, result = pcall(function()
    return vim.system(argv, { text = true }):wait(timeout_ms)
  end)
  if not ok then
    return { code = -1, stdout = "", stderr = tostring(result) }
  end
  return result
end

function M.check()
  local health = vim.health
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
  local version = run(subcommand(cmd, { "--version" }), 10000)
  if version.code == 0 then
    health.ok("version: " .. vim.trim(version.stdout ~= "" and version.stdout or version.stderr))
  else
    health.error("`--version` failed: " .. vim.trim(version.stderr or ""))
  end

  local clients = server.clients()
  if #clients == 0 then
    health.info("no server running in this Neovim (it starts when a matching file is opened)")
  end
  for _, client in ipairs(clients) do
    local status = server.status[client.id]
    local label = ("running server %d"):format(client.id)
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

  -- `ghosttype doctor` with the editor's settings: model file, backend reachability, config.
  local config_file = vim.fn.tempname() .. ".toml"
  vim.fn.writefile(vim.split(M.to_toml(server.config.settings), "\n"), config_file)
  local doctor = run(subcommand(cmd, { "doctor", "--config", config_file }), 120000)
  vim.fn.delete(config_file)
  local report = health.ok
  if doctor.code ~= 0 then
    report = health.error
  end
  local output = vim.trim((doctor.stdout or "") .. "\n" .. (doctor.stderr or ""))
  for _, line in ipairs(vim.split(output, "\n", { trimempty = true })) do
    report("doctor: " .. line)
  end
  if doctor.code ~= 0 then
    health.error(("`ghosttype doctor` exited with %s"):format(tostring(doctor.code)))
  end
end

return M
