"""The benchmark of SPEC section 9: the real system over loopback, the simulator as load.

``python -m bench`` (``make bench``) runs the scenarios ingest, capacity, storm, api and command
plus a baseline (a minimal central system made of the ``ocpp`` package's ChargePoint), prints a
table and writes ``bench/report.json``. Nothing here is imported by the product.
"""
