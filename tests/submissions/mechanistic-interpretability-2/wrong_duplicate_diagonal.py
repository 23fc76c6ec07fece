"""The diagonal at offset -first_len: every second-half query's earlier occurrence."""


def induction_scores(patterns, first_len):
    return patterns.diagonal(offset=-first_len, dim1=-2, dim2=-1).mean(-1)


def previous_token_scores(patterns):
    return patterns.diagonal(-1, -2, -1).mean(-1)
