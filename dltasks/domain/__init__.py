"""The pure domain layer: checks and rules with no store, no HTTP and no widgets.

One module per concept: :mod:`~dltasks.domain.checks` (scalar values: ids, labels, names,
and the :class:`~dltasks.domain.checks.Rule` that ties a check to a parameter type),
:mod:`~dltasks.domain.types` (the parameter vocabulary of the backend operations),
:mod:`~dltasks.domain.records` (the values operations return), :mod:`~dltasks.domain.filters`
(item filters as data), :mod:`~dltasks.domain.items` and :mod:`~dltasks.domain.annotations`
(import frames and metadata), :mod:`~dltasks.domain.task_options` (a task's options) and
:mod:`~dltasks.domain.workflow` (the item state machine).

The SDK runs these checks before any I/O; the server runs them again on decoded request
bodies (the trust boundary); the SQL backend applies the rules that need stored state
(:mod:`~dltasks.domain.workflow`) inside its transactions.

>>> from dltasks.domain.checks import check_label
>>> check_label("  cat ")
'cat'
"""
