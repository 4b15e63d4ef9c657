require "set"

# The distinct words of a sentence, in lower case.
def distinct_words(sentence)
  █
end
