import torch.nn.functional as F


def dpo_loss(pc, pr, rc, rr, beta=0.1):
    chosen = pc - rc
    rejected = pr - rr
    loss = -F.logsigmoid(beta * (rejected - chosen)).mean()
    return loss, (beta * chosen).detach(), (beta * rejected).detach()
