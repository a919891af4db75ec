"""The VQ-VAE codebook grid and code maps."""
