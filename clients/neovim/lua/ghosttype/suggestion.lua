-- Ghost text: asking the server on each change in insert mode, drawing the answer with extmarks,
-- accepting it (all, a word, a line), cycling candidates and dismissing. State is per buffer.
local server = require("ghosttype.server")
local text = require("ghosttype.text")

local M = {}

M.ns = vim.api.nvim_create_namespace("ghosttype")
-- The "2/3" candidate counter lives apart so the suggestion itself is one extmark in `M.ns`.
M.count_ns = vim.api.nvim_create_namespace("ghosttype_count")

local METHOD = "textDocument/inlineCompletion"
local TRIGGER = { invoked = 1, automatic = 2 }
-- Error codes that only mean "this answer is no longer wanted".
local QUIET_ERRORS = { [-32800] = true, [-32801] = true, [-32802] = true }

M.enabled = true

---@class ghosttype.Candidate
---@field text string      what is still to be inserted at the cursor ("\n" between lines)
---@field replace integer  bytes after the cursor that accepting replaces (from the item's range)
---@field command table|nil the item's command, run after it is accepted

---@class ghosttype.State
---@field seq integer            number of the latest request; answers to older ones are dropped
---@field request_id integer|nil the in-flight request, to cancel
---@field client_id integer|nil
---@field candidates ghosttype.Candidate[]|nil
---@field index integer
---@field anchor {row: integer, col: integer, before: string, after: string}|nil

---@type table<integer, ghosttype.State>
local states = {}

---@param buf integer
---@return ghosttype.State
local function state(buf)
  local s = states[buf]
  if not s then
    s = { seq = 0, index = 1 }
    states[buf] = s
  end
  return s
end

local function in_insert_mode()
  local mode = vim.api.nvim_get_mode().mode
  return mode == "i" or mode == "ic" or mode == "ix"
end

--- Cursor as (0-based row, byte col) and the text of its line.
local function cursor_line()
  local row, col = unpack(vim.api.nvim_win_get_cursor(0))
  local line = vim.api.nvim_buf_get_lines(0, row - 1, row, true)[1]
  return row - 1, col, line
end

local function cancel(s)
  if s.request_id then
    local client = vim.lsp.get_client_by_id(s.client_id)
    if client and not client:is_stopped() then
      client:cancel_request(s.request_id)
    end
    s.request_id = nil
  end
end

---@param buf integer
function M.clear(buf)
  local s = states[buf]
  if s then
    s.candidates, s.anchor, s.index = nil, nil, 1
  end
  if vim.api.nvim_buf_is_valid(buf) then
    vim.api.nvim_buf_clear_namespace(buf, M.ns, 0, -1)
    vim.api.nvim_buf_clear_namespace(buf, M.count_ns, 0, -1)
  end
end

--- Clears the ghost text and forgets the request in flight.
---@param buf integer
function M.reset(buf)
  local s = states[buf]
  if s then
    s.seq = s.seq + 1
    cancel(s)
  end
  M.clear(buf)
end

---@param buf integer|nil
---@return ghosttype.Candidate|nil
function M.current(buf)
  local s = states[buf or vim.api.nvim_get_current_buf()]
  return s and s.candidates and s.candidates[s.index] or nil
end

---@param buf integer|nil
function M.visible(buf)
  return M.current(buf) ~= nil
end

local function highlight()
  return server.config and server.config.highlight or "GhosttypeSuggestion"
end

local function draw(buf)
  local s = states[buf]
  vim.api.nvim_buf_clear_namespace(buf, M.ns, 0, -1)
  vim.api.nvim_buf_clear_namespace(buf, M.count_ns, 0, -1)
  local candidate = s and s.candidates and s.candidates[s.index]
  if not candidate then
    return
  end
  local anchor, hl = s.anchor, highlight()
  local tabstop = vim.bo[buf].tabstop
  local lines = text.lines(candidate.text)
  local first = lines[1]
  -- A one-line suggestion that ends with the text it replaces (an auto-closed ")") is drawn
  -- without that ending: the real ")" after the cursor already shows it.
  local replaced = anchor.after:sub(1, candidate.replace)
  if #lines == 1 and replaced ~= "" and vim.endswith(first, replaced) then
    first = first:sub(1, #first - #replaced)
  end
  local opts = { hl_mode = "combine", priority = 200 }
  if first ~= "" then
    local vcol = vim.fn.strdisplaywidth(anchor.before)
    opts.virt_text = { { text.expand_tabs(first, vcol, tabstop), hl } }
    opts.virt_text_pos = "inline"
  end
  if #lines > 1 then
    opts.virt_lines = {}
    for i = 2, #lines do
      opts.virt_lines[#opts.virt_lines + 1] = { { text.expand_tabs(lines[i], 0, tabstop), hl } }
    end
  end
  vim.api.nvim_buf_set_extmark(buf, M.ns, anchor.row, anchor.col, opts)
  if #s.candidates > 1 then
    vim.api.nvim_buf_set_extmark(buf, M.count_ns, anchor.row, 0, {
      virt_text = { { (" %d/%d"):format(s.index, #s.candidates), "GhosttypeCount" } },
      virt_text_pos = "eol",
    })
  end
end

local function set_anchor(s)
  local row, col, line = cursor_line()
  s.anchor = { row = row, col = col, before = line:sub(1, col), after = line:sub(col + 1) }
end

--- Keeps the ghost text in step with the buffer: text typed that matches the suggestion is taken
--- off its front (no flicker while typing what it suggests); anything else clears it.
---@param buf integer
function M.sync(buf)
  local s = states[buf]
  if not s or not s.candidates then
    return
  end
  if not in_insert_mode() or vim.api.nvim_get_current_buf() ~= buf then
    M.clear(buf)
    return
  end
  local a = s.anchor
  local row, col, line = cursor_line()
  local same_place = row == a.row
    and col >= a.col
    and line:sub(1, a.col) == a.before
    and line:sub(col + 1) == a.after
  if not same_place then
    M.clear(buf)
    return
  end
  local typed = line:sub(a.col + 1, col)
  if typed == "" then
    return
  end
  local current = s.candidates[s.index]
  local kept, index = {}, 1
  for _, candidate in ipairs(s.candidates) do
    if vim.startswith(candidate.text, typed) and #candidate.text > #typed then
      candidate.text = candidate.text:sub(#typed + 1)
      kept[#kept + 1] = candidate
      if candidate == current then
        index = #kept
      end
    end
  end
  if #kept == 0 then
    M.clear(buf)
    return
  end
  s.candidates, s.index = kept, index
  set_anchor(s)
  draw(buf)
end

--- Turns the server's items into candidates relative to the cursor; items that do not fit the
--- text around the cursor are dropped.
---@return ghosttype.Candidate[]
local function candidates_from(result, encoding, row, col, line)
  local items = result and (result.items or result) or {}
  local candidates, seen = {}, {}
  for _, item in ipairs(items) do
    local insert = text.plain(item.insertText)
    local replace, fits = 0, true
    if item.range then
      local start, stop = item.range.start, item.range["end"]
      fits = start.line == row and stop.line == row
      if fits then
        local first = vim.str_byteindex(line, encoding, start.character, false)
        local last = vim.str_byteindex(line, encoding, stop.character, false)
        local typed = line:sub(first + 1, col)
        fits = first <= col and last >= col and vim.startswith(insert, typed)
        insert, replace = insert:sub(#typed + 1), last - col
      end
    end
    local no_change = insert == line:sub(col + 1, col + replace)
    if fits and not no_change and not seen[insert] then
      seen[insert] = true
      candidates[#candidates + 1] = { text = insert, replace = replace, command = item.command }
    end
  end
  return candidates
end

local function on_result(buf, seq, tick, err, result, ctx)
  local s = states[buf]
  if not s or s.seq ~= seq then
    return -- a newer request was sent (or the suggestion was dismissed)
  end
  s.request_id = nil
  if err then
    if not QUIET_ERRORS[err.code] then
      server.log(("%s failed: %s"):format(METHOD, err.message or vim.inspect(err)))
    end
    return
  end
  if
    not vim.api.nvim_buf_is_valid(buf)
    or vim.api.nvim_get_current_buf() ~= buf
    or vim.b[buf].changedtick ~= tick
    or not in_insert_mode()
    or vim.fn.pumvisible() == 1
  then
    return -- stale: the text changed, or the user left insert mode meanwhile
  end
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  local encoding = client and client.offset_encoding or "utf-16"
  local here = vim.lsp.util.make_position_params(0, encoding).position
  local asked = ctx.params.position
  if here.line ~= asked.line or here.character ~= asked.character then
    return -- the cursor moved since the request
  end
  local row, col, line = cursor_line()
  local candidates = candidates_from(result, encoding, row, col, line)
  if #candidates == 0 then
    -- What is left of a suggestion after a partial accept or typing it stays (sync keeps it in
    -- step); the server having nothing new to add is no reason to take it away.
    return
  end
  -- Stay on the candidate the user cycled to if it is still offered.
  local shown, index = M.current(buf), 1
  for i, candidate in ipairs(candidates) do
    if shown and candidate.text == shown.text then
      index = i
    end
  end
  s.candidates, s.index = candidates, index
  set_anchor(s)
  draw(buf)
end

--- Asks the server for a suggestion at the cursor, cancelling the previous request.
---@param buf integer|nil
---@param trigger "automatic"|"invoked"|nil
function M.request(buf, trigger)
  buf = buf or vim.api.nvim_get_current_buf()
  if not M.enabled or not in_insert_mode() or vim.api.nvim_get_current_buf() ~= buf then
    return
  end
  local client = server.running_client(buf)
  if not client then
    return
  end
  local s = state(buf)
  cancel(s)
  s.seq = s.seq + 1
  local seq, tick = s.seq, vim.b[buf].changedtick
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params.context = { triggerKind = TRIGGER[trigger or "automatic"] }
  local ok, request_id = client:request(METHOD, params, function(err, result, ctx)
    on_result(buf, seq, tick, err, result, ctx)
  end, buf)
  if ok then
    s.request_id, s.client_id = request_id, client.id
  end
end

--- Whether a refresh for `params` (textDocument {uri, version}, position) is about what is shown
--- now: the buffer unedited since that version, the cursor at that position, a suggestion on
--- screen. Anything else (a key typed meanwhile, a dismissed suggestion) ignores it.
---@param buf integer
---@param params table
---@param encoding string
local function refresh_applies(buf, params, encoding)
  local document, position = params.textDocument, params.position
  if type(document) ~= "table" or type(position) ~= "table" then
    return false
  end
  if document.uri ~= vim.uri_from_bufnr(buf) or document.version ~= vim.lsp.util.buf_versions[buf] then
    return false
  end
  local here = vim.lsp.util.make_position_params(0, encoding).position
  return here.line == position.line and here.character == position.character and M.visible(buf)
end

--- The server's `ghosttype/refreshInlineCompletion`: the pause role's answer for the shown place
--- differs from the one shown. Asks again through the normal path; on_result draws the reply in
--- place of the old extmark in one step (never a moment without ghost text) and keeps the old
--- one when the reply is empty.
---@param params table
---@param client_id integer
function M.refresh(params, client_id)
  local buf = vim.api.nvim_get_current_buf()
  local client = vim.lsp.get_client_by_id(client_id)
  if not client or type(params) ~= "table" or not in_insert_mode() then
    return
  end
  if refresh_applies(buf, params, client.offset_encoding) then
    M.request(buf, "automatic")
  end
end

local function run_command(buf, candidate)
  local command = candidate.command
  local client = server.get_client(buf)
  if not command or not client then
    return
  end
  client:request("workspace/executeCommand", {
    command = command.command,
    arguments = command.arguments,
  }, function(err)
    if err then
      server.log(("%s failed: %s"):format(command.command, err.message or vim.inspect(err)))
    end
  end, buf)
end

--- Inserts `part` at the cursor, replacing `replace` bytes after it, and puts the cursor after it.
local function insert_at_cursor(row, col, part, replace)
  local lines = text.lines(part)
  vim.api.nvim_buf_set_text(0, row, col, row, col + replace, lines)
  local last_row = row + #lines - 1
  local last_col = (#lines == 1 and col or 0) + #lines[#lines]
  vim.api.nvim_win_set_cursor(0, { last_row + 1, last_col })
end

--- Accepts the suggestion, or its next word or line.
---@param how "all"|"word"|"line"|nil
---@return boolean accepted
function M.accept(how)
  local buf = vim.api.nvim_get_current_buf()
  M.sync(buf)
  local s = states[buf]
  local candidate = M.current(buf)
  if not candidate then
    return false
  end
  local part = candidate.text
  if how == "word" then
    part = text.next_word(part)
  elseif how == "line" then
    part = text.next_line(part)
  end
  local row, col = s.anchor.row, s.anchor.col
  if part == candidate.text then
    M.reset(buf)
    insert_at_cursor(row, col, part, candidate.replace)
    run_command(buf, candidate)
  else
    -- Keep the rest on screen; the edit's own TextChangedI asks the server for a fresh answer.
    candidate.text = candidate.text:sub(#part + 1)
    s.candidates, s.index = { candidate }, 1
    insert_at_cursor(row, col, part, 0)
    set_anchor(s)
    draw(buf)
  end
  return true
end

--- Shows the next (or previous) candidate; with nothing shown, asks the server right away.
---@param step integer 1 or -1
function M.cycle(step)
  local buf = vim.api.nvim_get_current_buf()
  local s = states[buf]
  if not s or not s.candidates then
    M.request(buf, "invoked")
    return
  end
  s.index = (s.index - 1 + step) % #s.candidates + 1
  draw(buf)
end

---@param buf integer|nil
function M.dismiss(buf)
  M.reset(buf or vim.api.nvim_get_current_buf())
end

--- Turns suggestions on or off everywhere.
---@param on boolean
function M.set_enabled(on)
  M.enabled = on
  if not on then
    for buf in pairs(states) do
      M.reset(buf)
    end
  end
end

--- Wires a buffer's autocommands: requests on changes in insert mode, clearing when leaving it.
---@param buf integer
function M.attach(buf)
  local group = vim.api.nvim_create_augroup("ghosttype_buffer_" .. buf, { clear = true })
  state(buf)
  local function on(events, callback)
    vim.api.nvim_create_autocmd(events, { group = group, buffer = buf, callback = callback })
  end
  on("TextChangedI", function()
    M.sync(buf)
    M.request(buf)
  end)
  on("CursorMovedI", function()
    M.sync(buf)
  end)
  on("TextChangedP", function()
    M.reset(buf)
  end)
  on("InsertEnter", function()
    -- After InsertEnter the cursor is not yet in its final place (for `A`, `o`).
    vim.schedule(function()
      M.request(buf)
    end)
  end)
  on("ModeChanged", function()
    if not vim.v.event.new_mode:match("^i") then
      M.reset(buf)
    end
  end)
  on({ "BufLeave", "WinLeave" }, function()
    M.reset(buf)
  end)
  on("BufWipeout", function()
    M.detach(buf)
  end)
end

---@param buf integer
function M.detach(buf)
  M.reset(buf)
  states[buf] = nil
  pcall(vim.api.nvim_del_augroup_by_name, "ghosttype_buffer_" .. buf)
end

return M
