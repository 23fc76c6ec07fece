import torch


def log_sigmoid(z):
    # min(z, 0) - log(1 + exp(-|z|)): exp never sees a large positive argument
    return torch.clamp(z, max=0) - torch.log1p(torch.exp(-z.abs()))


def dpo_loss(pc, pr, rc, rr, beta=0.1):
    chosen_rewards = beta * (pc - rc)
    rejected_rewards = beta * (pr - rr)
    loss = -log_sigmoid(chosen_rewards - rejected_rewards).sum() / pc.shape[0]
    return loss, chosen_rewards.detach(), rejected_rewards.detach()
