-- Only the :Ghosttype command is defined at startup; everything else waits for setup().
if vim.g.loaded_ghosttype then
  return
end
vim.g.loaded_ghosttype = true

require("ghosttype.commands").define()
