from .spml_optim_wrapper_constructor import SPMLOptimWrapperConstructor

__all__ = ['SPMLOptimWrapperConstructor']
