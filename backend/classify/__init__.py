"""Classify stage: trials from annotations, Riemannian and deep pipelines, cross-validation,
saved models, and classifier outputs over time."""
