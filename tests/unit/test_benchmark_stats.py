"""The quality benchmark's paired test: the p-values a reported comparison rests on."""

from benchmarks.quality.metrics import mcnemar_p


def test_an_even_split_is_no_evidence():
    assert mcnemar_p(3, 3) == 1.0
    assert mcnemar_p(0, 0) == 1.0


def test_a_one_sided_split_matches_the_binomial_tail():
    # 6 discordant tasks all one way: 2 * (1/2)^6.
    assert mcnemar_p(6, 0) == mcnemar_p(0, 6) == 2 / 64
    # 10 vs 2: 2 * P(X <= 2), X ~ Bin(12, 1/2) = 2 * (1 + 12 + 66) / 4096.
    assert abs(mcnemar_p(10, 2) - 158 / 4096) < 1e-12
