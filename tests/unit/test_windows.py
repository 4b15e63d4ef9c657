from ghosttype.context.windows import windows
from ghosttype.tokens import estimate_tokens


def count_words(text: str) -> int:
    return len(text.split())


def test_small_file_fits_whole():
    text = "a b\nc d\ne f\n"
    found = windows(text, 5, prefix_budget=100, suffix_budget=100, count=count_words)
    assert found.prefix == "a b\nc" and found.suffix == " d\ne f\n" and found.anchor == 0


def test_prefix_anchor_stays_put_while_typing():
    text = "".join(f"word{i} w w w\n" for i in range(100))
    first = windows(text, len(text), prefix_budget=100, suffix_budget=10, count=count_words)
    assert first.prefix_tokens <= 100 and first.anchor > 0
    assert text[first.anchor - 1] == "\n"  # starts at a line boundary
    typed = text + "abc"
    second = windows(typed, len(typed), 100, 10, count_words, anchor=first.anchor)
    assert second.anchor == first.anchor  # same start: the KV cache is reused
    assert second.prefix == first.prefix + "abc"


def test_anchor_jumps_forward_when_the_prefix_outgrows_its_budget():
    text = "w\n" * 400
    first = windows(text, 100, prefix_budget=60, suffix_budget=10, count=count_words)
    later = windows(text, 300, 60, 10, count_words, anchor=first.anchor)
    assert later.anchor > first.anchor and later.prefix_tokens <= 60
    # It leaves room to grow: the next keystrokes keep the new anchor.
    assert later.prefix_tokens < 60


def test_suffix_is_whole_lines_within_budget():
    text = "x = 1\n" + "a b c\n" * 50
    found = windows(text, 4, prefix_budget=100, suffix_budget=7, count=count_words)
    assert found.suffix == "1\na b c\na b c\n"


def test_one_huge_line_is_cut_by_characters():
    text = "x" * 100_000
    found = windows(text, 50_000, prefix_budget=100, suffix_budget=20)
    assert 0 < len(found.prefix) <= 100 * 3
    assert estimate_tokens(found.prefix) <= 100


def test_estimate_never_undercounts_ascii_code_much():
    # Code tokenizes at 3-4 characters per token: the estimate assumes 3.
    assert estimate_tokens("abcdef" * 100) >= 200
    assert estimate_tokens("日本語") >= 3


def test_a_new_anchor_fills_its_share_of_the_budget_on_dense_text():
    # Eight characters a word: the first guess (4 characters a token) takes half of what fits,
    # and the prefix must still reach the refill share rather than stop at the guess.
    text = "".join("wordword " * 5 + "\n" for _ in range(400))
    found = windows(text, len(text), prefix_budget=200, suffix_budget=10, count=count_words)
    assert 0.7 * 200 - 5 <= found.prefix_tokens <= 200
    invoked = windows(text, len(text), 200, 10, count_words, refill=0.98)
    assert 0.98 * 200 - 5 <= invoked.prefix_tokens <= 200
