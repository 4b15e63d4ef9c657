local util = require("util")

-- Return a new table with the elements of t in reverse order.
local function reverse(t)
  █
end

return { reverse = reverse }
