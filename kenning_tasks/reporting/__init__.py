"""Reports as data (``document.py``), built per pipeline (``single.py``, ``target.py``), per
group of pipelines (``comparison.py``) and per run (``timeline.py``), rendered to Markdown and
HTML (``render.py``)."""
