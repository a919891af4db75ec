"""The regulariser's view: KL per dimension, or the prior against the codes."""
