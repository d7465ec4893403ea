"""ART-style transformer denoiser: model, training pairs, training and inference.

``backend.denoise.inference`` registers the ``art`` step; ``ArtDenoiser`` wraps it
scikit-learn style.
"""
