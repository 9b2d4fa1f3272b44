"""User interface: the ``nsijax`` command line (:mod:`.cli`) and publication plots (:mod:`.plotting`,
needs matplotlib)."""
