"""Runs csms and management_api in one process: the embedded deployment of ``make run``."""
