"""Reference selective scan (Gu and Dao, 2023), the plain recurrence: what
state-space-models-2 checks against."""

from __future__ import annotations

import torch


def selective_scan(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,  # noqa: N803 - the paper's names
    B: torch.Tensor,  # noqa: N803
    C: torch.Tensor,  # noqa: N803
    D: torch.Tensor | None = None,  # noqa: N803
) -> torch.Tensor:
    """``x_t = exp(delta_t A) x_{t-1} + delta_t B_t u_t``, ``y_t = <C_t, x_t> (+ D u_t)``.

    u, delta: (batch, d, L); A: (d, n); B, C: (batch, n, L); D: (d,). Returns (batch, d, L).
    """
    batch, d, length = u.shape
    delta_a = torch.exp(delta.unsqueeze(-1) * A[:, None, :])  # (batch, d, L, n)
    delta_b_u = (delta * u).unsqueeze(-1) * B.transpose(1, 2).unsqueeze(1)  # (batch, d, L, n)
    x = u.new_zeros(batch, d, A.shape[1])
    ys = []
    for t in range(length):
        x = delta_a[:, :, t] * x + delta_b_u[:, :, t]
        ys.append(torch.einsum("bdn,bn->bd", x, C[:, :, t]))
    y = torch.stack(ys, dim=-1)
    return y if D is None else y + D[:, None] * u
