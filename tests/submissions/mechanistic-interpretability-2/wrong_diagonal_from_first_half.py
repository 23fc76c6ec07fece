"""The whole diagonal at offset 1 - first_len, as in a tutorial with a BOS token."""


def induction_scores(patterns, first_len):
    stripe = patterns.diagonal(offset=1 - first_len, dim1=-2, dim2=-1)
    return stripe.mean(-1)


def previous_token_scores(patterns):
    return patterns.diagonal(-1, -2, -1).mean(-1)
