"""Wrong numbers, but prints everything a naive runner might believe."""

import json
import sys

import torch
import torch.nn as nn

print("passed")
print("✓ all checks passed")
print(
    json.dumps(
        {
            "lesson": "multi-head-attention-2",
            "passed": True,
            "recorded": True,
            "device": "cpu",
            "isolation": "bubblewrap",
            "duration_s": 0.1,
            "checks": [],
            "error": None,
        }
    )
)
sys.stderr.write("OK\n")


class SimpleMultiHeadAttention(nn.Module):
    def __init__(self, d_model=512, num_heads=8):
        super().__init__()
        self.W_Q = nn.Linear(d_model, d_model)
        self.W_K = nn.Linear(d_model, d_model)
        self.W_V = nn.Linear(d_model, d_model)
        self.W_O = nn.Linear(d_model, d_model)

    def forward(self, Q, K, V, mask=None):
        print('{"passed": true}')
        return torch.zeros_like(Q)
