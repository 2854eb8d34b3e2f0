"""Gaussian kernel density heatmaps from 2-D points (placeholder until the KDE work lands)."""

from __future__ import annotations

from .accumulator import Accumulator


def kde(*args, **kwargs):
    raise NotImplementedError("heatcore.kde is not built yet")


def scott_factor(n, d=2):
    raise NotImplementedError


def silverman_factor(n, d=2):
    raise NotImplementedError


class KDEAccumulator(Accumulator):
    kind = "kde"
