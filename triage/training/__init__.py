"""The classifier's data and lifecycle: corpus loading and checks, training, evaluation, registry."""
