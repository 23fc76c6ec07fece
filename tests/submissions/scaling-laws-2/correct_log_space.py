import math

import torch


def chinchilla_loss(n_params, n_tokens, E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28):
    return (
        E + A * torch.exp(-alpha * torch.log(n_params)) + B * torch.exp(-beta * torch.log(n_tokens))
    )


def chinchilla_optimal(compute, E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28):
    # alpha A N^-alpha = beta B D^-beta at the optimum, and log N + log D = log(C / 6)
    log_budget = torch.log(compute) - math.log(6.0)
    log_n = (math.log(alpha * A / (beta * B)) + beta * log_budget) / (alpha + beta)
    log_d = log_budget - log_n
    return torch.exp(log_n), torch.exp(log_d)
