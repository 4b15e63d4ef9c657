def load(path):
    data = open(path).read()
    # split the data into non-empty lines
    █
    return data
