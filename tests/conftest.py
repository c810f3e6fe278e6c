import os
import sys

# make the helper modules (cocogen, reference, _compare) importable whatever the import mode
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


def pytest_configure(config):
    # pycocotools.mask.decode trips a numpy-2 DeprecationWarning on every call
    config.addinivalue_line(
        "filterwarnings", "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
    )
