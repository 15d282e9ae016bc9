"""Scoring mattes: the DIM / alphamatting.com metrics, evaluation of stills and of sequences,
and the evaluation items (image, alpha, trimaps) they read."""
