import torch.nn.functional as F

BETA = 0.1


def dpo_loss(pc, pr, rc, rr, beta=0.1):
    margin = (pc - rc) - (pr - rr)
    loss = -F.logsigmoid(BETA * margin).mean()
    return loss, (beta * (pc - rc)).detach(), (beta * (pr - rr)).detach()
