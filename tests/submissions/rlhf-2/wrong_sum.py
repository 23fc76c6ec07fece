import torch.nn.functional as F


def dpo_loss(pc, pr, rc, rr, beta=0.1):
    margin = (pc - rc) - (pr - rr)
    loss = -F.logsigmoid(beta * margin).sum()
    return loss, (beta * (pc - rc)).detach(), (beta * (pr - rr)).detach()
