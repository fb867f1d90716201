"""Libraries that other libraries find through sys.modules, imported whole before any page code.

Streamlit, Plotly and narwhals import pandas and pyarrow lazily and check whether they are
loaded by looking them up in sys.modules. The first page runs of a fresh server are
concurrent (one thread per session): while one thread was still importing pandas, another
found the half-built module there and failed with "partially initialized module 'pandas'
has no attribute 'Series'" (seen with six sessions arriving at once). A module's own import
waits for one in progress in another thread, so importing this module first in the frame
makes every session wait until these are complete.
"""

import numpy  # noqa: F401
import pandas  # noqa: F401
import pyarrow  # noqa: F401
