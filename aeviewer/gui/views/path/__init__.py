"""A path drawn over the latent view, decoded along its length."""
