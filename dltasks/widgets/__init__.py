"""Jupyter widgets (ipywidgets 8) for running a labelling round from a notebook.

Each widget gathers input, makes one SDK call per action and shows the DataFrame or figure
that comes back; anything a widget does, a line of Python can do.

>>> import dltasks as dl
>>> store = dl.connect("sqlite://")
>>> form = dl.widgets.TaskForm(store.datasets.create("faces", labels=["Adult", "Child"]))
>>> form.labels.value
'Adult, Child'
"""
from __future__ import annotations

from dltasks.widgets.widget_board import TaskBoard
from dltasks.widgets.widget_consensus import ConsensusView
from dltasks.widgets.widget_filters import FilterBuilder
from dltasks.widgets.widget_form import TaskForm
from dltasks.widgets.widget_item import ItemView
from dltasks.widgets.widget_labeling import LabelingWidget
from dltasks.widgets.widget_partition import PartitionView
from dltasks.widgets.widget_pickers import AssigneePicker, DueDatePicker
from dltasks.widgets.widget_review import ReviewWidget
from dltasks.widgets.widget_workers import WorkersView

__all__ = [
    "TaskForm",
    "DueDatePicker",
    "AssigneePicker",
    "FilterBuilder",
    "PartitionView",
    "ConsensusView",
    "TaskBoard",
    "LabelingWidget",
    "ReviewWidget",
    "ItemView",
    "WorkersView",
]
