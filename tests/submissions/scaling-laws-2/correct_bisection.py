import torch


def chinchilla_loss(n_params, n_tokens, E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28):
    return E + A / n_params**alpha + B / n_tokens**beta


def chinchilla_optimal(compute, E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28):
    """No algebra: bisect dL/dlogN = 0 along D = C / (6 N), in log N, where L is convex."""
    budget = compute / 6
    lo = torch.zeros_like(budget)
    hi = torch.log(budget)
    for _ in range(200):
        mid = (lo + hi) / 2
        n = torch.exp(mid)
        d = budget / n
        slope = -alpha * A / n**alpha + beta * B / d**beta  # dL/dlog N
        lo = torch.where(slope < 0, mid, lo)
        hi = torch.where(slope < 0, hi, mid)
    n = torch.exp((lo + hi) / 2)
    return n, budget / n
