function total(values) {
  █
}
