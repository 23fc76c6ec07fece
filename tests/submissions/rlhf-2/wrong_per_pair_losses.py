import torch.nn.functional as F


def dpo_loss(pc, pr, rc, rr, beta=0.1):
    losses = -F.logsigmoid(beta * ((pc - rc) - (pr - rr)))
    return losses, (beta * (pc - rc)).detach(), (beta * (pr - rr)).detach()
