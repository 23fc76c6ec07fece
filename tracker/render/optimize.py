"""What `tracker optimize` found, as text."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracker.usecases.optimize import OptimizeOutcome


def render_optimize(outcome: OptimizeOutcome) -> str:
    result = outcome.result
    before = "your parameters" if result.custom_before else "the defaults"
    lines = [
        f"{result.reviews_used} usable reviews ({result.reviews_total} in all)",
        f"log loss before: {result.loss_before:.4f} ({before})",
        f"log loss after:  {result.loss_after:.4f} (fitted)",
        "parameters: " + ", ".join(f"{p:.4f}" for p in result.parameters),
    ]
    if outcome.dry_run:
        lines.append("dry run: nothing stored")
    elif result.stored:
        lines.append("stored: your next ratings use these parameters")
    else:
        lines.append(
            f"not stored: the fitted parameters do not predict your reviews better than {before}"
        )
    return "\n".join(lines)
