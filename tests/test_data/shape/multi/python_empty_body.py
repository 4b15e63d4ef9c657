def total(values):
    █
