def area(r):
    return 3.14 * █
