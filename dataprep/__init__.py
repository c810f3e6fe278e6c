"""dataprep: the command line and pipeline steps of the suite (``dataprep --help``)."""

__version__ = "0.1.0"
