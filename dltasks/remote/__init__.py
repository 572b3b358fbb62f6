"""The HTTP backend of dltasks: a store that talks to ``dltasks serve``.

``dl.connect("http://host:port", token=...)`` returns a :class:`dltasks.client.RemoteStore`
whose repositories (``datasets``, ``users``, ``tasks``, ``work``, a dataset's ``items``,
``annotations`` and ``tasks``) have the local store's methods and return the same entity
classes, so SDK code and widgets run unchanged against a team server.
"""
from __future__ import annotations

__all__: list[str] = []
