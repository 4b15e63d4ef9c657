#include <vector>

// The sum of all elements of the vector.
int sum(const std::vector<int>& values) {
    █
}
