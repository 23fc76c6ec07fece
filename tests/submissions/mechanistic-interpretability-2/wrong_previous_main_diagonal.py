"""Previous-token scores read from the main diagonal."""


def induction_scores(patterns, first_len):
    stripe = patterns.diagonal(offset=1 - first_len, dim1=-2, dim2=-1)
    return stripe[..., 1:].mean(-1)


def previous_token_scores(patterns):
    return patterns.diagonal(0, -2, -1).mean(-1)
