"""Masked-language-model inputs: fill in the TODOs, then `tracker submit bert-architecture-2 FILE`."""

import torch


def mask_tokens(
    input_ids, mask_token_id, vocab_size, special_tokens_mask, generator, mlm_probability=0.15
):
    """Return (inputs, labels) for BERT's masked-language-model objective.

    input_ids: int64 (batch, seq); special_tokens_mask: bool, True at [CLS], [SEP], padding.
    Choose each non-special position with probability mlm_probability; of the chosen, 80%
    become mask_token_id, 10% a random token from range(vocab_size), 10% stay. labels hold
    the original id at chosen positions and -100 elsewhere. Draw every random number from
    `generator` (on input_ids' device) and do not modify input_ids.
    """
    # TODO 1: labels = input_ids.clone(); a probability matrix of mlm_probability, 0 at specials.
    # TODO 2: chosen = torch.bernoulli(probability, generator=generator).bool(); labels[~chosen] = -100.
    # TODO 3: inputs = input_ids.clone(); 80% of chosen -> mask_token_id; half of the rest -> random.
    raise NotImplementedError("mask_tokens is not written yet")
