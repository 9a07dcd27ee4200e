from typing import List, Optional

import torch
from torch import Tensor, nn

from mmspml.functional import MemoryBatch


class PrototypeMemoryBank(nn.Module):
    """FIFO bank of the last ``size`` iterations' prototypes (spml-method.md §4.8).

    Each entry holds the *detached* global prototypes of one iteration with their
    semantic labels, tags and image ids (computed with the pre-update weights, exactly
    what the reference stores after ``optimizer.step``). The bank never holds more than
    ``size`` entries. Its content is not part of the model's ``state_dict`` (whose values
    mmengine broadcasts as tensors); :class:`~mmspml.engine.hooks.SPMLMemoryBankHook`
    saves it in checkpoints (:meth:`export_state` / :meth:`import_state`), so ``--resume``
    continues with the same memory.

    Image ids: when read with :meth:`get` for a batch whose current ids are
    ``0 .. num_current_images-1``, the newest entry's ids start at
    ``num_current_images`` and each older entry follows after the newer ones, so memory
    ids never collide with current ids nor with each other (the reference shifts them by
    a fixed 16 a step, which collides when batch sizes change).
    """

    def __init__(self, size: int) -> None:
        super().__init__()
        if size < 0:
            raise ValueError(f'PrototypeMemoryBank: size must be >= 0, got {size}')
        self.size = int(size)
        self._entries: List[dict] = []

    def __len__(self) -> int:
        return len(self._entries)

    @torch.no_grad()
    def push(self, prototypes: Tensor, semantic: Tensor, tags: Tensor, image_ids: Tensor,
             num_images: int) -> None:
        """Append one iteration (``[K, D]``, ``[K]``, ``[K, C]``, ``[K]``); drop the oldest."""
        if self.size == 0:
            return
        self._entries.append(dict(
            prototypes=prototypes.detach().clone(), semantic=semantic.detach().clone(),
            tags=tags.detach().clone(), image_ids=image_ids.detach().clone(),
            num_images=torch.tensor(int(num_images))))
        del self._entries[:-self.size]

    def get(self, num_current_images: int, device=None,
            dtype=None) -> Optional[MemoryBatch]:
        """All entries, oldest first, as one :class:`MemoryBatch` (``None`` if empty)."""
        if not self._entries:
            return None
        bases, base = [], int(num_current_images)
        for entry in reversed(self._entries):  # newest gets the smallest ids
            bases.append(base)
            base += int(entry['num_images'])
        bases.reverse()
        cat = lambda key: torch.cat([e[key] for e in self._entries]).to(device)  # noqa
        ids = torch.cat([e['image_ids'] + b for e, b in zip(self._entries, bases)])
        protos = cat('prototypes')
        return MemoryBatch(prototypes=protos if dtype is None else protos.to(dtype),
                           semantic=cat('semantic'), tags=cat('tags'),
                           image_ids=ids.to(device))

    def reset(self) -> None:
        self._entries = []

    def export_state(self) -> dict:
        """The entries as plain tensors (loads with ``torch.load(weights_only=True)``)."""
        return dict(entries=[{k: v.cpu() for k, v in e.items()} for e in self._entries])

    def import_state(self, state: dict) -> None:
        """Restore :meth:`export_state`'s output (keeps at most ``size`` entries)."""
        entries = [dict(e) for e in state.get('entries', [])]
        self._entries = entries[-self.size:] if self.size else []

    def extra_repr(self) -> str:
        return f'size={self.size}, entries={len(self._entries)}'
