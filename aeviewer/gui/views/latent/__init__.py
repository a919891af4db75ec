"""The latent scatter, its maps, density image and bookmarks navigation."""
