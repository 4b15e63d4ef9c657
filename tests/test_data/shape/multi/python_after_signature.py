class Stack:
    def push(self, item):█
