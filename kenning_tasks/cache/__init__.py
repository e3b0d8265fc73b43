"""The run cache's parts: a local store, an optional remote one, their settings and upkeep.

``kenning_tasks/run_cache.py`` is what the stage action calls; this package holds the parts:

- ``entries``: the entry (manifest) format and its checks;
- ``local``: the local store (``cache/`` or ``$KENNING_TASKS_CACHE``);
- ``remote``: a remote store through fsspec (S3, SFTP, a shared folder, ...);
- ``settings``: the settings (environment and ``[cache]`` in ``kenning-tasks.toml``);
- ``gc``: the local size limit (least recently used first) and the remote's age limit;
- ``cli``: ``python -m kenning_tasks cache status|push|pull|gc|clear``.

No module here imports fsspec until a remote is used.
"""
