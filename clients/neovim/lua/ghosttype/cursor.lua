-- Tells the server where the cursor went without typing (`ghosttype/didMoveCursor`): a jump, a
-- search, another buffer. The server then starts on the prompts there, so the first keystroke is
-- answered sooner; a cue only, nothing is lost without it. Sent once the cursor has rested on a
-- line other than the last one sent or typed on; the moves that edits cause send nothing.
local server = require("ghosttype.server")

local M = {}

M.METHOD = "ghosttype/didMoveCursor"
-- How long the cursor must rest before its place is sent: one cue per jump, not one per line passed.
M.SETTLE_MS = 120

--- b:changedtick of each attached buffer as last seen: a move that comes with a change is typing.
---@type table<integer, integer>
local ticks = {}
--- The last place sent, or typed on.
---@type {buf: integer, row: integer}|nil
local last = nil
local timer = nil

local function cancel()
  if timer then
    timer:stop()
  end
end

--- The buffer changed: the cursor's line counts as typed on, and a pending cue is dropped.
---@param buf integer
local function typed(buf)
  ticks[buf] = vim.b[buf].changedtick
  cancel()
  if vim.api.nvim_get_current_buf() == buf then
    last = { buf = buf, row = vim.api.nvim_win_get_cursor(0)[1] }
  end
end

--- Where the cursor rests now, if it is a move: sends the cue.
local function settled()
  local buf = vim.api.nvim_get_current_buf()
  if not ticks[buf] then
    return -- not a buffer ghosttype is attached to
  end
  if vim.b[buf].changedtick ~= ticks[buf] then
    typed(buf)
    return
  end
  local row = vim.api.nvim_win_get_cursor(0)[1]
  if last and last.buf == buf and last.row == row then
    return
  end
  local client = server.running_client(buf)
  if not client then
    return
  end
  client:notify(M.METHOD, vim.lsp.util.make_position_params(0, client.offset_encoding))
  last = { buf = buf, row = row }
end

---@param buf integer
local function moved(buf)
  if vim.b[buf].changedtick ~= ticks[buf] then
    typed(buf) -- the move that an edit (typing, `dd`, undo) made
    return
  end
  timer = timer or assert(vim.uv.new_timer())
  timer:stop()
  timer:start(M.SETTLE_MS, 0, vim.schedule_wrap(settled))
end

---@param buf integer
function M.attach(buf)
  local group = vim.api.nvim_create_augroup("ghosttype_cursor_" .. buf, { clear = true })
  ticks[buf] = vim.b[buf].changedtick
  if vim.api.nvim_get_current_buf() == buf then
    last = { buf = buf, row = vim.api.nvim_win_get_cursor(0)[1] }
  end
  local function on(events, callback)
    vim.api.nvim_create_autocmd(events, { group = group, buffer = buf, callback = callback })
  end
  on({ "CursorMoved", "CursorMovedI", "BufEnter" }, function()
    moved(buf)
  end)
  on({ "TextChanged", "TextChangedI", "TextChangedP" }, function()
    typed(buf)
  end)
  on("BufWritePost", function()
    -- Writing counts in b:changedtick too, but it is no edit.
    ticks[buf] = vim.b[buf].changedtick
  end)
end

---@param buf integer
function M.detach(buf)
  ticks[buf] = nil
  if last and last.buf == buf then
    last = nil
  end
  pcall(vim.api.nvim_del_augroup_by_name, "ghosttype_cursor_" .. buf)
end

return M
