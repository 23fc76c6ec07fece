import torch


def dpo_loss(pc, pr, rc, rr, beta=0.1):
    logits = beta * ((pc - rc) - (pr - rr))
    # clamp so that log never sees 0
    loss = -torch.log(torch.sigmoid(logits).clamp(min=1e-8)).mean()
    return loss, (beta * (pc - rc)).detach(), (beta * (pr - rr)).detach()
