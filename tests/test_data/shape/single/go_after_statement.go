package main

func run() {
	x := 1
	x++█
}
