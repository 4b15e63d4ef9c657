fn main() {█}
