use std::collections::HashMap;

/// Count how often each word occurs in the text.
fn word_counts(text: &str) -> HashMap<String, usize> {
    █
}
