import torch


def selective_scan(u, delta, A, B, C, D=None):
    batch, d, L = u.shape
    n = A.shape[1]
    x = torch.zeros(batch, d, n, dtype=u.dtype, device=u.device)
    y = torch.empty_like(u)
    for t in range(L):
        dt = delta[:, :, t, None]  # (batch, d, 1)
        deltaA = torch.exp(dt * A)  # (batch, d, n)
        deltaB_u = dt * B[:, None, :, t] * u[:, :, t, None]
        x = deltaA * x + deltaB_u
        y[:, :, t] = (x * C[:, None, :, t]).sum(-1)
    if D is not None:
        y = y + D[:, None] * u
    return y
