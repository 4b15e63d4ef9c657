-- :Ghosttype status|enable|disable|toggle|restart|log|cancel
local server = require("ghosttype.server")

local M = {}

local function echo(lines)
  vim.api.nvim_echo({ { table.concat(lines, "\n") } }, true, {})
end

local function status()
  if not server.config then
    echo({ "ghosttype: not set up; call require('ghosttype').setup({})" })
    return
  end
  local ghosttype = require("ghosttype")
  local lines = {
    ("ghosttype: suggestions %s"):format(require("ghosttype.suggestion").enabled and "enabled" or "disabled"),
  }
  local clients = server.all_clients()
  if #clients == 0 then
    local cmd, why = server.resolve_cmd()
    lines[#lines + 1] = cmd and ("no server running (cmd: %s)"):format(table.concat(cmd, " "))
      or ("no server: " .. why)
    echo(lines)
    return
  end
  for _, client in ipairs(clients) do
    local info = client.server_info or {}
    local last = server.status[client.id] or { state = "loading", message = "starting" }
    lines[#lines + 1] = ("server %d: %s %s, %s: %s"):format(
      client.id,
      info.name or "ghosttype",
      info.version or "",
      last.state,
      last.message
    )
    lines[#lines + 1] = ("  cmd: %s; buffers: %s; positions: %s"):format(
      table.concat(client.config.cmd, " "),
      table.concat(vim.tbl_keys(client.attached_buffers), ", "),
      client.offset_encoding
    )
  end
  local this = ghosttype.status()
  lines[#lines + 1] = "this buffer: " .. (this and this.state or "not attached")
  echo(lines)
  -- The counters come from the server; print them when they arrive.
  for _, client in ipairs(clients) do
    if client.initialized then
      client:request("workspace/executeCommand", { command = "ghosttype.stats" }, function(err, stats)
        if not err and type(stats) == "table" then
          echo({ ("server %d stats: %s"):format(client.id, vim.json.encode(stats)) })
        end
      end)
    end
  end
end

local function log()
  local lines = { "ghosttype log (LSP traffic and server stderr: " .. vim.lsp.log.get_filename() .. ")", "" }
  vim.list_extend(lines, server.log_lines())
  vim.cmd("botright new")
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].swapfile = false
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.api.nvim_buf_set_name(buf, "ghosttype://log")
end

M.subcommands = {
  status = status,
  enable = function()
    require("ghosttype").enable(true)
  end,
  disable = function()
    require("ghosttype").enable(false)
  end,
  toggle = function()
    require("ghosttype").enable()
  end,
  restart = function()
    if not server.config then
      echo({ "ghosttype: call require('ghosttype').setup() first" })
      return
    end
    server.restart()
  end,
  log = log,
  cancel = function()
    local count = require("ghosttype.actions").cancel()
    echo({
      count == 0 and "ghosttype: no action running" or ("ghosttype: cancelling %d action(s)"):format(count),
    })
  end,
}

function M.run(args)
  local name = args.fargs[1] or "status"
  local subcommand = M.subcommands[name]
  if not subcommand then
    vim.notify(("ghosttype: unknown subcommand %q"):format(name), vim.log.levels.ERROR)
    return
  end
  subcommand()
end

function M.complete(lead)
  local names = vim.tbl_filter(function(name)
    return vim.startswith(name, lead)
  end, vim.tbl_keys(M.subcommands))
  table.sort(names)
  return names
end

--- Defines :Ghosttype (from plugin/ at startup, and from setup() for plugin managers that add
--- clients/neovim to the runtimepath after startup).
function M.define()
  vim.api.nvim_create_user_command("Ghosttype", M.run, {
    nargs = "?",
    complete = M.complete,
    desc = "ghosttype: status|enable|disable|toggle|restart|log|cancel",
  })
end

return M
