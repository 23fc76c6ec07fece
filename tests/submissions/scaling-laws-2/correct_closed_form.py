def chinchilla_loss(n_params, n_tokens, E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28):
    return E + A / n_params**alpha + B / n_tokens**beta


def chinchilla_optimal(compute, E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28):
    G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
    a = beta / (alpha + beta)
    b = alpha / (alpha + beta)
    n_opt = G * (compute / 6) ** a
    d_opt = (1 / G) * (compute / 6) ** b
    return n_opt, d_opt
