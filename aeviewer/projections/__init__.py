"""2-D views of a latent space, each with a way back: the latent's own axes, a pair of dims and PCA (exact
inverses, fitted at once), UMAP and t-SNE (computed in a worker process, inverted by interpolating among
the codes around a place, cached). Torch-free and Qt-free.

The kinds and their parameters are listed once, in :mod:`aeviewer.projections.registry`.
"""
from aeviewer.projections.linear import LINEAR_KINDS, Projection, make_projection
from aeviewer.projections.registry import KINDS, MAP_KINDS, checked_params, default_params, kind_of

__all__ = ["KINDS", "LINEAR_KINDS", "MAP_KINDS", "Projection", "checked_params", "default_params", "kind_of",
           "make_projection"]
