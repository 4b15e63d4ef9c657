#!/usr/bin/env bash
source ./lib.sh

# Print each argument on its own line, numbered.
number_lines() {
  █
}

number_lines "$@"
