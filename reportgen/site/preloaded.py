"""Imported last by the render workers' fork server (render._PRELOAD).

Everything the server loaded before is moved out of the garbage collector's
reach (``gc.freeze``), so that the workers forked from it leave those pages
shared instead of copying them the first time a collection walks them.
"""

import gc

gc.freeze()
