"""Ready-made analyses run by the command line (``nsijax fit``)."""
