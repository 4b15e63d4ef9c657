const options = {
  verbose: true,
  █
};
