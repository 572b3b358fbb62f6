"""Quality control helpers: gold accuracy per worker and a crowd simulation.

:func:`gold_accuracy` is pure (a DataFrame in, a DataFrame out).  The simulation lives in
:mod:`dltasks.quality.simulate` and is not imported here, because it drives a store through the
SDK and the SDK may use this package.

>>> import pandas as pd
>>> from dltasks.quality import gold_accuracy
>>> gold_accuracy(pd.DataFrame({"user_id": ["a", "a", "b"], "correct": [True, False, True]}))[
...     ["user_id", "gold_n", "gold_accuracy"]]
  user_id  gold_n  gold_accuracy
0       a       2            0.5
1       b       1            1.0
"""
from __future__ import annotations

from dltasks.quality.gold_stats import gold_accuracy, wilson_interval

__all__ = ["gold_accuracy", "wilson_interval"]
