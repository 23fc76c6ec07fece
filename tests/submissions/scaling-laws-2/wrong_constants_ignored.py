E, A, B, ALPHA, BETA = 1.69, 406.4, 410.7, 0.34, 0.28


def chinchilla_loss(n_params, n_tokens, E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28):
    return E + A / n_params**alpha + B / n_tokens**beta


def chinchilla_optimal(compute, **constants):
    G = (ALPHA * A / (BETA * B)) ** (1 / (ALPHA + BETA))
    n = G * (compute / 6) ** (BETA / (ALPHA + BETA))
    d = (compute / 6) ** (ALPHA / (ALPHA + BETA)) / G
    return n, d
