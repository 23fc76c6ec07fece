"""Wrong: the class is called MultiHeadAttention."""

import torch.nn as nn


class MultiHeadAttention(nn.Module):
    def __init__(self, d_model=512, num_heads=8):
        super().__init__()
        self.W_Q = nn.Linear(d_model, d_model)
