"""Asks for far more memory than any machine here has: RLIMIT_AS must refuse it.

(Without the limit the first bytearray would be zero-filled, page by page,
until the machine ran out; under the limit the allocation fails at once.)
"""

import torch

blocks = [torch.empty(1 << 28, dtype=torch.float64) for _ in range(64)]  # 128 GiB, untouched
blocks.append(bytearray(64 << 30))
