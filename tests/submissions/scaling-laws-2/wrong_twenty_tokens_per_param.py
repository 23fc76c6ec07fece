import torch


def chinchilla_loss(n_params, n_tokens, E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28):
    return E + A / n_params**alpha + B / n_tokens**beta


def chinchilla_optimal(compute, E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28):
    # the rule of thumb: 20 tokens per parameter, C = 6 N D = 120 N^2
    n = torch.sqrt(compute / 120)
    return n, 20 * n
