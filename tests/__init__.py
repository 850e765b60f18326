"""Test suite of evcsms."""
