import torch
import torch.nn.functional as F


def dpo_loss(
    policy_chosen_logps,
    policy_rejected_logps,
    reference_chosen_logps,
    reference_rejected_logps,
    beta=0.1,
):
    """The preference as a binary classification: the chosen answer wins with label 1."""
    rewards = beta * torch.stack(
        [
            policy_chosen_logps - reference_chosen_logps,
            policy_rejected_logps - reference_rejected_logps,
        ]
    )
    logits = rewards[0] - rewards[1]
    loss = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
    rewards = rewards.detach()
    return loss, rewards[0], rewards[1]
