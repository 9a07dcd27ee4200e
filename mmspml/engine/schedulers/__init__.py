from .spml_poly_lr import SPMLPolyLR

__all__ = ['SPMLPolyLR']
