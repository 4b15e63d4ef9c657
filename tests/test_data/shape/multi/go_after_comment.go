package main

func run() {
	x := 1
	// print x twice
	█
}
