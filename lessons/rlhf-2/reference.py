"""Reference DPO loss (Rafailov et al., 2023): the trusted answer rlhf-2's checks compare with."""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812


def dpo_loss(
    policy_chosen_logps: torch.Tensor,
    policy_rejected_logps: torch.Tensor,
    reference_chosen_logps: torch.Tensor,
    reference_rejected_logps: torch.Tensor,
    beta: float = 0.1,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``-logsigmoid(beta * ((pc - rc) - (pr - rr))).mean()`` and the detached implicit rewards."""
    chosen_ratio = policy_chosen_logps - reference_chosen_logps
    rejected_ratio = policy_rejected_logps - reference_rejected_logps
    loss = -F.logsigmoid(beta * (chosen_ratio - rejected_ratio)).mean()
    return loss, (beta * chosen_ratio).detach(), (beta * rejected_ratio).detach()
