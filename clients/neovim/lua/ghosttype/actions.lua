-- Code actions' client side (docs/actions.md). They are ordinary LSP code actions:
-- vim.lsp.buf.code_action() lists them, resolves the one picked and applies its edit, and the
-- default window/showDocument handler opens Explain's markdown. This adds what Neovim does not do
-- by itself: the instruction for "Refactor with an instruction" (vim.ui.input), and the action's
-- work-done progress in the message area and ghosttype's statusline component, and
-- :Ghosttype cancel to stop it.
local server = require("ghosttype.server")

local M = {}

M.REFACTOR_COMMAND = "ghosttype.refactor"

--- The running actions per client id, by progress token: their title and last progress message.
---@type table<integer, table<string|integer, {title: string, message: string|nil}>>
M.running = {}

--- vim.lsp.commands["ghosttype.refactor"]: asks for the instruction and sends the command with it
--- as `data.instruction`. A cancelled prompt sends nothing; an empty answer sends no instruction
--- (the server then takes the comment right above the code).
---@param command lsp.Command
---@param ctx table
function M.refactor(command, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  local data = (command.arguments or {})[1]
  if not client or type(data) ~= "table" then
    return
  end
  vim.ui.input({ prompt = "Refactor instruction (empty: the comment above the code): " }, function(answer)
    if answer == nil then
      return
    end
    data = vim.deepcopy(data)
    answer = vim.trim(answer)
    if answer ~= "" then
      data.instruction = answer
    end
    server.log("refactor: " .. (data.instruction or "(the comment above the code)"))
    client:request(
      "workspace/executeCommand",
      { command = M.REFACTOR_COMMAND, arguments = { data } },
      function(err)
        if err then
          vim.notify("ghosttype: refactor failed: " .. tostring(err.message), vim.log.levels.WARN)
        end
      end,
      ctx.bufnr
    )
  end)
end

---@param action {title: string, message: string|nil}
local function describe(action)
  return action.message and (action.title .. ": " .. action.message) or action.title
end

--- One line for the statusline while an action runs ("" when none does).
---@param client_id integer
---@return string
function M.progress(client_id)
  local lines = vim.tbl_map(describe, vim.tbl_values(M.running[client_id] or {}))
  table.sort(lines)
  return table.concat(lines, ", ")
end

--- LspProgress from a ghosttype server: an action's begin (its title starts "ghosttype: "),
--- reports and end. The model's loading progress is left to ghosttype/status.
local function on_progress(event)
  local client = vim.lsp.get_client_by_id(event.data.client_id)
  local params = event.data.params or {}
  local value = params.value
  if not client or client.name ~= server.NAME or type(value) ~= "table" then
    return
  end
  local running = M.running[client.id] or {}
  M.running[client.id] = running
  local token = params.token
  if value.kind == "begin" then
    if type(value.title) ~= "string" or not vim.startswith(value.title, "ghosttype: ") then
      return
    end
    running[token] = { title = value.title:sub(#"ghosttype: " + 1) }
  end
  local action = running[token]
  if action == nil then
    return
  end
  if value.kind == "end" then
    running[token] = nil
    server.log(("action %s: %s"):format(action.title, value.message or "done"))
  else
    action.message = value.message or action.message
    vim.api.nvim_echo({ { "ghosttype: " .. describe(action) .. " … (:Ghosttype cancel)" } }, false, {})
  end
  vim.cmd.redrawstatus({ bang = true })
end

--- :Ghosttype cancel: stops every running action of ghosttype's clients (their progress is
--- cancellable: window/workDoneProgress/cancel stops the model and kills a test run; nothing is
--- written). Returns how many were asked to stop.
---@return integer
function M.cancel()
  local count = 0
  for _, client in ipairs(server.all_clients()) do
    for token in pairs(M.running[client.id] or {}) do
      client:notify("window/workDoneProgress/cancel", { token = token })
      count = count + 1
    end
  end
  return count
end

---@param group integer the plugin's autocommand group
function M.setup(group)
  vim.lsp.commands[M.REFACTOR_COMMAND] = M.refactor
  vim.api.nvim_create_autocmd("LspProgress", { group = group, callback = on_progress })
end

return M
