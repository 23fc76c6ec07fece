"""Reference masked-language-model inputs: BERT's 15% / 80-10-10 corruption.

Each non-special position is chosen with probability ``mlm_probability``; a chosen
position becomes ``mask_token_id`` with probability 0.8, else (half of the remaining
0.2) a token drawn uniformly from the vocabulary, else it stays. Labels keep the
original id where chosen and -100 (ignored by ``F.cross_entropy``) elsewhere. Every
random number comes from ``generator``, so a seed replays the same corruption.
"""

from __future__ import annotations

import torch

IGNORE_INDEX = -100


def mask_tokens(
    input_ids: torch.Tensor,
    mask_token_id: int,
    vocab_size: int,
    special_tokens_mask: torch.Tensor,
    generator: torch.Generator,
    mlm_probability: float = 0.15,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, labels) for masked-language-model training; ``input_ids`` is not modified."""
    shape, device = input_ids.shape, input_ids.device

    def coin(p: float | torch.Tensor) -> torch.Tensor:
        probability = p if isinstance(p, torch.Tensor) else torch.full(shape, p, device=device)
        return torch.bernoulli(probability, generator=generator).bool()

    chosen = coin(
        torch.full(shape, mlm_probability, device=device).masked_fill(special_tokens_mask, 0.0)
    )
    labels = input_ids.masked_fill(~chosen, IGNORE_INDEX)
    masked = coin(0.8) & chosen
    randomised = coin(0.5) & chosen & ~masked
    random_ids = torch.randint(vocab_size, shape, generator=generator, device=device)
    inputs = input_ids.masked_fill(masked, mask_token_id)
    inputs = torch.where(randomised, random_ids, inputs)
    return inputs, labels
