"""Engines that run the per-chunk facts function elsewhere (dask ``distributed``)."""
