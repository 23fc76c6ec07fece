def chinchilla_loss(n_params, n_tokens, E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28):
    return E + A / n_params**beta + B / n_tokens**alpha


def chinchilla_optimal(compute, E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28):
    G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
    n = G * (compute / 6) ** (beta / (alpha + beta))
    return n, compute / (6 * n)
