-- A tiny test runner for driving ghosttype in headless Neovim.
--
-- The test body runs in a coroutine. `sleep` and `wait` yield to Neovim's event loop (a uv timer
-- plus vim.schedule, not vim.wait, which would not process typed keys), so keys given to
-- nvim_input go through the real typeahead, mappings and autocommands as if a person typed them.
-- A failure prints its message on stderr and exits with `cquit 1`; success exits 0.
local T = {}

local suggestion = require("ghosttype.suggestion")
local server = require("ghosttype.server")

local co

local function resume()
  local ok, err = coroutine.resume(co)
  if not ok then
    T.fail(debug.traceback(co, err))
  elseif coroutine.status(co) == "dead" then
    T.finish()
  end
end

---@param message string
function T.fail(message)
  io.stderr:write("FAIL: " .. tostring(message) .. "\n")
  io.stderr:write("buffer:\n" .. table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n") .. "\n")
  io.stderr:write("ghosttype log:\n" .. table.concat(server.log_lines(), "\n") .. "\n")
  vim.cmd("cquit 1")
end

--- Stops the server gracefully (so no process outlives the test), then quits with status 0.
function T.finish()
  io.stderr:write("PASS\n")
  for _, client in ipairs(server.all_clients()) do
    client:stop()
  end
  local waited = 0
  local timer = assert(vim.uv.new_timer())
  timer:start(
    20,
    20,
    vim.schedule_wrap(function()
      waited = waited + 20
      if #server.all_clients() == 0 or waited > 3000 then
        timer:stop()
        vim.cmd("qa!")
      end
    end)
  )
end

--- Yields to the event loop for `ms` milliseconds.
function T.sleep(ms)
  local timer = assert(vim.uv.new_timer())
  timer:start(ms, 0, function()
    timer:close()
    vim.schedule(resume)
  end)
  coroutine.yield()
end

--- Waits until `predicate()` returns a truthy value and returns it; fails naming `what` after
--- `timeout_ms`.
function T.wait(what, predicate, timeout_ms)
  local deadline = vim.uv.now() + (timeout_ms or 10000)
  while true do
    local value = predicate()
    if value then
      return value
    end
    if vim.uv.now() > deadline then
      error("timed out waiting for " .. what, 2)
    end
    T.sleep(20)
  end
end

--- Types `keys` (with <Key> notation) through the typeahead.
function T.type(keys)
  vim.api.nvim_input(keys)
  T.sleep(30)
end

function T.eq(actual, expected, what)
  if not vim.deep_equal(actual, expected) then
    error(("%s: expected %s, got %s"):format(what, vim.inspect(expected), vim.inspect(actual)), 2)
  end
end

function T.lines()
  return vim.api.nvim_buf_get_lines(0, 0, -1, false)
end

function T.line(row)
  return vim.api.nvim_buf_get_lines(0, row - 1, row, false)[1]
end

function T.mode()
  return vim.api.nvim_get_mode().mode
end

--- The ghost text on screen, read back from the extmarks: { text = first line (inline),
--- lines = every line, row, col, pos, hl } or nil when none is drawn.
function T.ghost()
  local marks = vim.api.nvim_buf_get_extmarks(0, suggestion.ns, 0, -1, { details = true })
  local mark = marks[1]
  if not mark then
    return nil
  end
  local details = mark[4]
  local first, hl = "", nil
  for _, chunk in ipairs(details.virt_text or {}) do
    first = first .. chunk[1]
    hl = chunk[2]
  end
  local lines = { first }
  for _, virt_line in ipairs(details.virt_lines or {}) do
    local line = ""
    for _, chunk in ipairs(virt_line) do
      line = line .. chunk[1]
      hl = hl or chunk[2]
    end
    lines[#lines + 1] = line
  end
  return {
    text = first,
    lines = lines,
    row = mark[2],
    col = mark[3],
    pos = details.virt_text_pos,
    hl = hl,
    count = #marks,
  }
end

--- Waits until the first line of the ghost text is `expected`; returns the ghost.
function T.expect_ghost(expected, timeout_ms)
  local last
  local ok, result = pcall(T.wait, "ghost text " .. vim.inspect(expected), function()
    last = T.ghost()
    return last and last.text == expected and last
  end, timeout_ms or 10000)
  if not ok then
    error(("%s (last seen: %s)"):format(result, vim.inspect(last)), 2)
  end
  return result
end

--- Waits a while and fails if any ghost text is drawn meanwhile.
function T.expect_no_ghost(ms, what)
  local deadline = vim.uv.now() + ms
  while vim.uv.now() < deadline do
    local ghost = T.ghost()
    if ghost then
      error(("%s: expected no ghost text, got %s"):format(what, vim.inspect(ghost)), 2)
    end
    T.sleep(20)
  end
end

--- Waits for the ghosttype server to attach to the buffer and report itself ready.
function T.wait_ready(timeout_ms)
  local client = T.wait("the ghosttype server to attach", function()
    local c = server.get_client(0)
    return c and c.initialized and c
  end, timeout_ms or 30000)
  T.wait("ghosttype/status ready", function()
    local status = server.status[client.id]
    return status and status.state == "ready"
  end, timeout_ms or 60000)
  return client
end

--- Runs `body(T)` in a coroutine after the server is ready (at once with `opts.wait_ready = false`,
--- for a server that never gets there); a deadline guards the whole run.
function T.run(body, timeout_ms, opts)
  local deadline = assert(vim.uv.new_timer())
  deadline:start(
    timeout_ms or 90000,
    0,
    vim.schedule_wrap(function()
      T.fail("the test did not finish in time")
    end)
  )
  co = coroutine.create(function()
    if not opts or opts.wait_ready ~= false then
      T.client = T.wait_ready()
    end
    body(T)
  end)
  vim.schedule(resume)
end

return T
