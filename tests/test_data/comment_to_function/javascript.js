const path = require("path");

// Sum the numbers of an array, ignoring anything that is not a number.
function sumNumbers(values) {
  █
}

module.exports = { sumNumbers };
