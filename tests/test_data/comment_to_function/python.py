import math


def circle_area(radius: float) -> float:
    """Return the area of a circle; negative radii are an error."""
    █


def main() -> None:
    print(circle_area(2.0))
