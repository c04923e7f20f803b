"""How steady one environment's samples of a metric are.

The loader warns about unstable samples as it reads a results file, and the
analysis notes them beside each comparison; both use this one measure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Cited in docs/formats.md, "Comparison rules".
CV_LIMIT = 0.10  # pyperf's limit: a standard deviation of 10% of the mean is unstable
TUKEY_FAR = 3.0  # Tukey's far-out fences, in interquartile ranges beyond the quartiles


@dataclass(frozen=True)
class Stability:
    """How steady one environment's samples of a metric are."""

    cv: float  # sample standard deviation / mean
    outliers: int  # samples beyond Tukey's far-out fences

    @property
    def unstable(self) -> bool:
        return self.cv >= CV_LIMIT or self.outliers > 0

    def describe(self) -> str:
        """``CV 27%, 1 outlier``: what makes the samples unstable."""
        parts = []
        if self.cv >= CV_LIMIT:
            parts.append(f"CV {round(self.cv * 100)}%")
        if self.outliers:
            parts.append(f"{self.outliers} outlier{'s' if self.outliers > 1 else ''}")
        return ", ".join(parts)


def stability(samples: Sequence[float]) -> Stability:
    """The coefficient of variation, and the outliers by Tukey's far-out fences
    (Q1 - 3 IQR, Q3 + 3 IQR), as criterion.rs counts its severe outliers;
    none when the quartiles coincide."""
    values = np.asarray(samples, dtype=np.float64)
    if len(values) < 2:
        return Stability(0.0, 0)
    q1, q3 = np.percentile(values, [25, 75])
    fence = TUKEY_FAR * (q3 - q1)
    # Coinciding quartiles (timer-quantized values) leave no fences to judge by.
    outliers = int(np.count_nonzero((values < q1 - fence) | (values > q3 + fence))) \
        if fence > 0 else 0
    return Stability(float(np.std(values, ddof=1) / np.mean(values)), outliers)
