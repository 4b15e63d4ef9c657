"""ghosttype: AI ghost-text completions for any editor over LSP."""

__version__ = "0.1.0"
