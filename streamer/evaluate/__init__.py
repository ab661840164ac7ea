"""Evaluation: EAD2019 and EndoCV2020 detection scores, annotation formats, quality metrics, plots."""
