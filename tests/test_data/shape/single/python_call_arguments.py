result = compute(
    first,
    █
)
