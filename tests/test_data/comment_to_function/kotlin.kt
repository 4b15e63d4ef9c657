import kotlin.math.abs

// The distance between two integers on the number line.
fun distance(a: Int, b: Int): Int {
    █
}
