"""Lightning's ``overrides`` package: distributed samplers (``overrides.distributed``)."""
