import torch.nn.functional as F


def dpo_loss(pc, pr, rc, rr, beta=0.1):
    chosen = (pc - rc).detach()
    rejected = (pr - rr).detach()
    loss = -F.logsigmoid(beta * ((pc - rc) - (pr - rr))).mean()
    return loss, chosen, rejected
