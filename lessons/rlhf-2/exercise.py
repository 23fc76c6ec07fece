"""Direct Preference Optimization: fill in the TODOs, then `tracker submit rlhf-2 FILE`."""

import torch
import torch.nn.functional as F


def dpo_loss(
    policy_chosen_logps,
    policy_rejected_logps,
    reference_chosen_logps,
    reference_rejected_logps,
    beta=0.1,
):
    """Each input is a (batch,) tensor of summed log-probabilities log pi(y | x) of a whole
    response: the chosen (preferred) and the rejected one, under the policy being trained
    and under the frozen reference model.

    Return (loss, chosen_rewards, rejected_rewards):
      loss             = -logsigmoid(beta * ((pc - rc) - (pr - rr))).mean()   (a scalar)
      chosen_rewards   = beta * (pc - rc), detached                            (batch,)
      rejected_rewards = beta * (pr - rr), detached                            (batch,)
    """
    # TODO 1: the log-ratios of policy to reference, for the chosen and the rejected answers.
    # TODO 2: the loss: minus the log-sigmoid of beta times their difference, averaged over
    #         the batch. Use a numerically stable log-sigmoid (summed log-probs are large).
    # TODO 3: the implicit rewards, beta times each log-ratio, detached from the graph.
    raise NotImplementedError("dpo_loss is not written yet")
