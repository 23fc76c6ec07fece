"""Pick the chosen positions per row with randperm (round(p * n) of its ordinary tokens),
then the fate of each chosen one with a single multinomial draw."""

import torch


def mask_tokens(input_ids, mask_token_id, vocab_size, special_tokens_mask, generator, mlm_probability=0.15):
    inputs = input_ids.clone()
    labels = torch.full_like(input_ids, -100)
    fates = torch.tensor([0.8, 0.1, 0.1], device=input_ids.device)
    for row in range(input_ids.shape[0]):
        ordinary = (~special_tokens_mask[row]).nonzero().squeeze(1)
        count = round(mlm_probability * ordinary.numel())
        order = torch.randperm(ordinary.numel(), generator=generator, device=input_ids.device)
        picked = ordinary[order[:count]]
        labels[row, picked] = input_ids[row, picked]
        fate = torch.multinomial(fates, count, replacement=True, generator=generator)
        inputs[row, picked[fate == 0]] = mask_token_id
        swap = picked[fate == 1]
        inputs[row, swap] = torch.randint(
            vocab_size, (swap.numel(),), generator=generator, device=input_ids.device
        )
    return inputs, labels
