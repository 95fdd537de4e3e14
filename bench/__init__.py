"""Benchmarks of core, served as deployed (gunicorn, DEBUG off). Run with `make bench` (python -m bench.run).

Nothing here is part of the product: the product's settings and URL confs never import this package.
"""
