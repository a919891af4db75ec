"""The one list of each thing (kinds, architectures, priors, noises) and the one description of each training option; imports nothing of ours above it."""
