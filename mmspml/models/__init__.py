from .losses.partial_cross_entropy_loss import PartialCrossEntropyLoss  # noqa: F401
