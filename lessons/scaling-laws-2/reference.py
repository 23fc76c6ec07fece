"""Reference Chinchilla allocation (Hoffmann et al., 2022, approach 3): what scaling-laws-2
checks against."""

from __future__ import annotations

import torch

E, A, B, ALPHA, BETA = 1.69, 406.4, 410.7, 0.34, 0.28  # the paper's fitted constants


def chinchilla_loss(
    n_params: torch.Tensor,
    n_tokens: torch.Tensor,
    E: float = E,  # noqa: N803 - the paper's names
    A: float = A,  # noqa: N803
    B: float = B,  # noqa: N803
    alpha: float = ALPHA,
    beta: float = BETA,
) -> torch.Tensor:
    """``L(N, D) = E + A / N**alpha + B / D**beta``."""
    return E + A / n_params**alpha + B / n_tokens**beta


def chinchilla_optimal(
    compute: torch.Tensor,
    E: float = E,  # noqa: N803
    A: float = A,  # noqa: N803
    B: float = B,  # noqa: N803
    alpha: float = ALPHA,
    beta: float = BETA,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The (N, D) minimising ``chinchilla_loss`` subject to ``6 N D = compute``:
    ``N = G (C / 6)**(beta / (alpha + beta))``, ``D = (C / 6)**(alpha / (alpha + beta)) / G``,
    with ``G = (alpha A / (beta B))**(1 / (alpha + beta))``."""
    G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))  # noqa: N806
    tokens_times_params = compute / 6
    n_params = G * tokens_times_params ** (beta / (alpha + beta))
    n_tokens = tokens_times_params ** (alpha / (alpha + beta)) / G
    return n_params, n_tokens
