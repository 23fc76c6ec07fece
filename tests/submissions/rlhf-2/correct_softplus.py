import torch
import torch.nn.functional as F


def dpo_loss(pc, pr, rc, rr, beta=0.1):
    # -log sigmoid(z) == softplus(-z), stable for any z
    pi_logratios = pc - pr
    ref_logratios = rc - rr
    logits = pi_logratios - ref_logratios
    losses = F.softplus(-beta * logits)
    with torch.no_grad():
        chosen_rewards = beta * (pc - rc)
        rejected_rewards = beta * (pr - rr)
    return losses.mean(), chosen_rewards, rejected_rewards
