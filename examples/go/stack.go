// Package stack provides a generic LIFO stack.
package stack

import "errors"

// ErrEmpty is returned when popping or peeking an empty stack.
var ErrEmpty = errors.New("stack is empty")

// Stack is a last-in, first-out collection.
type Stack[T any] struct {
	items []T
}

// Push adds an item on top.
func (s *Stack[T]) Push(item T) {
	s.items = append(s.items, item)
}

// Len reports how many items the stack holds.
func (s *Stack[T]) Len() int {
	return len(s.items)
}

// Pop removes and returns the top item.
func (s *Stack[T]) Pop() (T, error) {
	var zero T
	if len(s.items) == 0 {
		return zero, ErrEmpty
	}
	
}
