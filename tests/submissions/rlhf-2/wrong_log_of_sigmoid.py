import torch


def dpo_loss(pc, pr, rc, rr, beta=0.1):
    logits = beta * ((pc - rc) - (pr - rr))
    loss = -torch.log(torch.sigmoid(logits)).mean()
    return loss, (beta * (pc - rc)).detach(), (beta * (pr - rr)).detach()
