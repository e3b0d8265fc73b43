"""The report's figures: one style (``style.py``), one module per section; matplotlib is
imported only when a figure is drawn."""
