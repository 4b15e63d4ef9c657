-- Only the :Ghosttype command is defined at startup; everything else waits for setup().
if vim.g.loaded_ghosttype then
  return
end
vim.g.loaded_ghosttype = true

vim.api.nvim_create_user_command("Ghosttype", function(args)
  require("ghosttype.commands").run(args)
end, {
  nargs = "?",
  complete = function(lead)
    return require("ghosttype.commands").complete(lead)
  end,
  desc = "ghosttype: status|enable|disable|toggle|restart|log",
})
