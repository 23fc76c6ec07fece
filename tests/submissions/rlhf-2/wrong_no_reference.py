import torch.nn.functional as F


def dpo_loss(pc, pr, rc, rr, beta=0.1):
    loss = -F.logsigmoid(beta * (pc - pr)).mean()
    return loss, (beta * (pc - rc)).detach(), (beta * (pr - rr)).detach()
