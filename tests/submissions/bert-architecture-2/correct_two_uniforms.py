"""One uniform number decides whether a position is chosen, a second what happens to it."""

import torch


def mask_tokens(input_ids, mask_token_id, vocab_size, special_tokens_mask, generator, mlm_probability=0.15):
    dev = input_ids.device
    u = torch.rand(input_ids.shape, generator=generator, device=dev)
    chosen = (u < mlm_probability) & ~special_tokens_mask
    r = torch.rand(input_ids.shape, generator=generator, device=dev)
    random_ids = torch.randint(0, vocab_size, input_ids.shape, generator=generator, device=dev)
    out = torch.where(chosen & (r < 0.8), torch.full_like(input_ids, mask_token_id), input_ids)
    out = torch.where(chosen & (r >= 0.8) & (r < 0.9), random_ids, out)
    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, -100))
    return out, labels
