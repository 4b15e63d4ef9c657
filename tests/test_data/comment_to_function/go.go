package shapes

import "math"

// Hypot returns the length of the hypotenuse of a right triangle.
func Hypot(a, b float64) float64 {
	█
}
