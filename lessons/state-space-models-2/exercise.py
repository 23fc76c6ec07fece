"""Mamba's selective scan: fill in the TODOs, then `tracker submit state-space-models-2 FILE`."""

import torch


def selective_scan(u, delta, A, B, C, D=None):
    """u, delta: (batch, d, L); A: (d, n); B, C: (batch, n, L); D: (d,) or None.

    Each of the d channels carries a state x of n numbers through the sequence:
      deltaA_t   = exp(delta_t * A)           (batch, d, n) at each step t
      deltaB_u_t = delta_t * B_t * u_t        (batch, d, n)
      x_t = deltaA_t * x_{t-1} + deltaB_u_t,  starting from x_{-1} = 0
      y_t = sum over n of C_t * x_t            (batch, d)
    plus D * u when D is given. Return y of shape (batch, d, L).
    """
    # TODO 1: discretise: deltaA and deltaB_u for every step (broadcast delta against A and B).
    # TODO 2: run the recurrence over t = 0 .. L-1 and read each y_t out of the state with C_t.
    # TODO 3: add the skip term D * u (one D per channel) if D is given.
    raise NotImplementedError("selective_scan is not written yet")
