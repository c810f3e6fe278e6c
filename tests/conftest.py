import os
import sys

import pytest

# make the helper modules (cocogen, reference, _compare) importable whatever the import mode
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


def pytest_configure(config):
    # pycocotools.mask.decode trips a numpy-2 DeprecationWarning on every call
    config.addinivalue_line(
        "filterwarnings", "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
    )


@pytest.fixture(scope="module")
def one_torch_thread():
    """Small inputs: one torch thread is fastest, and results do not depend on the thread count."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
