from .prototype_memory_bank import PrototypeMemoryBank

__all__ = ['PrototypeMemoryBank']
