"""Compute-optimal scaling: fill in the TODOs, then `tracker submit scaling-laws-2 FILE`."""

import torch


def chinchilla_loss(n_params, n_tokens, E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28):
    """The Chinchilla loss L(N, D) = E + A / N**alpha + B / D**beta, elementwise, for tensors
    n_params (N, the number of parameters) and n_tokens (D, the number of training tokens)."""
    # TODO 1: the irreducible loss E plus one power-law term for N and one for D.
    raise NotImplementedError("chinchilla_loss is not written yet")


def chinchilla_optimal(compute, E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28):
    """For a tensor of training budgets in FLOPs, return (n_params, n_tokens), tensors of the
    same shape: the N and D that minimise chinchilla_loss(N, D) subject to 6 * N * D = compute.
    """
    # TODO 2: put D = compute / (6 N) into the loss, set dL/dN = 0 and solve for N:
    #         N = G * (compute / 6) ** (beta / (alpha + beta)) with G = ... (derive it).
    # TODO 3: D from the budget.
    raise NotImplementedError("chinchilla_optimal is not written yet")
