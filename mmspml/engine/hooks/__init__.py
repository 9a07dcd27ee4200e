from .check_num_classes_hook import CheckNumClassesHook
from .loss_image_hook import LossImageHook
from .random_state_hook import RandomStateHook
from .spml_memory_bank_hook import SPMLMemoryBankHook

__all__ = ['CheckNumClassesHook', 'LossImageHook', 'RandomStateHook', 'SPMLMemoryBankHook']
