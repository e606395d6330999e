"""leonet: a fast, open digital twin of a Starlink-like LEO satellite internet system.

The public API (`leonet.api`, on one page)::

    import leonet
    scenario = leonet.load_scenario("ukraine", time={"duration_s": 60})
    run = leonet.run(scenario, "runs/ukraine-1min")
    run.table("terminal_steps")      # pandas DataFrame
    run.summary.served_pct
"""

from ._version import __version__  # noqa: F401

from .api import *  # noqa: E402,F401,F403  (the curated surface: leonet.api.__all__)
from .api import __all__  # noqa: E402,F401
