import torch


def mask_tokens(
    input_ids, mask_token_id, vocab_size, special_tokens_mask, generator, mlm_probability=0.15
):
    labels = input_ids.clone()
    inputs = input_ids.clone()
    probability_matrix = torch.full(labels.shape, mlm_probability, device=labels.device)
    probability_matrix.masked_fill_(special_tokens_mask, value=0.0)
    masked_indices = torch.bernoulli(probability_matrix, generator=generator).bool()
    labels[~masked_indices] = -100

    indices_replaced = (
        torch.bernoulli(torch.full(labels.shape, 0.8, device=labels.device), generator=generator).bool()
        & masked_indices
    )
    inputs[indices_replaced] = mask_token_id

    indices_random = (
        torch.bernoulli(torch.full(labels.shape, 0.5, device=labels.device), generator=generator).bool()
        & masked_indices
        & ~indices_replaced
    )
    random_words = torch.randint(
        vocab_size, labels.shape, dtype=torch.long, generator=generator, device=labels.device
    )
    inputs[indices_random] = random_words[indices_random]
    return inputs, labels
