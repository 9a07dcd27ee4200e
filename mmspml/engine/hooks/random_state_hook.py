import warnings

import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import CheckpointHook, Hook
from mmseg.registry import HOOKS


def _local_state() -> dict:
    state = dict(torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def _set_local_state(state: dict) -> None:
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        cuda = state['cuda']
        if len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda)


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save torch's global RNG state of every process in checkpoints and restore it on
    resume.

    mmengine re-seeds on resume and replays the data loader to the resumed iteration
    (which reproduces numpy's augmentation draws), but the torch RNG used by dropout in
    the model would restart from the seed: the resumed run would then differ from an
    uninterrupted one. With this hook ``--resume`` continues bit-for-bit on the CPU (same
    losses with a fixed seed; on a GPU, atomic float additions make runs differ in the
    last bits whatever the RNG).

    Every process has its own RNG stream (its own dropout masks), so each rank's state
    is saved (``ranks``, index = rank) and each rank restores its own. ``Runner
    .save_checkpoint`` runs on rank 0 only, so the states are gathered (a collective of
    all ranks) in ``after_train_iter`` / ``after_train_epoch`` whenever a
    :class:`~mmengine.hooks.CheckpointHook` is about to save (this hook runs before it:
    priority ``LOW``); a checkpoint saved at another moment (e.g. the best one after a
    validation) holds rank 0's state only. A run resumed with another number of
    processes (or from such a checkpoint) keeps the freshly seeded states, with a
    warning: it cannot continue every rank's stream exactly. Checkpoints without the
    key load as before; those of earlier versions (one state, rank 0's) are restored
    in a one-process run only.
    """
    priority = 'LOW'  # before CheckpointHook (VERY_LOW) in after_train_iter/_epoch
    _KEY = 'mmspml_rng_state'

    def __init__(self) -> None:
        self._gathered = None  # (epoch, iter, [state of every rank])

    # ------------------------------------------------------------ every rank
    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if get_world_size() > 1 and self._checkpoint_due(runner, by_epoch=False):
            self._gather(runner)

    def after_train_epoch(self, runner) -> None:
        if get_world_size() > 1 and self._checkpoint_due(runner, by_epoch=True):
            self._gather(runner)

    def _gather(self, runner) -> None:
        self._gathered = (runner.epoch, runner.iter, all_gather_object(_local_state()))

    def _checkpoint_due(self, runner, by_epoch: bool) -> bool:
        """Whether a CheckpointHook saves at the end of this iteration (epoch); with no
        CheckpointHook (an unknown saver), every iteration gathers."""
        savers = [h for h in getattr(runner, 'hooks', []) if isinstance(h, CheckpointHook)]
        if not savers:
            return not by_epoch
        for h in savers:
            if h.by_epoch != by_epoch:
                continue
            if by_epoch:
                due = h.every_n_epochs(runner, h.interval, h.save_begin) or (
                    h.save_last and h.is_last_train_epoch(runner))
            else:
                due = h.every_n_train_iters(runner, h.interval, h.save_begin) or (
                    h.save_last and h.is_last_train_iter(runner))
            if due:
                return True
        return False

    # ------------------------------------------------------------ rank 0 (saving)
    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        world = get_world_size()
        if world == 1:
            states = [_local_state()]
        elif self._gathered is not None and \
                self._gathered[:2] == (runner.epoch, runner.iter):
            states = self._gathered[2]
        else:  # not gathered for this save: rank 0's state only (not restored on resume)
            states = [_local_state()]
        checkpoint[self._KEY] = dict(ranks=states, world_size=world)

    # ------------------------------------------------------------ every rank (loading)
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        saved = checkpoint.get(self._KEY)
        if not saved or not getattr(runner, '_resume', False):  # not for load_from
            return
        rank, world = get_rank(), get_world_size()
        if 'ranks' not in saved:  # written before the per-rank states: rank 0's only
            states, saved_world = [saved], None
        else:
            states, saved_world = saved['ranks'], saved.get('world_size')
        if len(states) != world:
            where = '' if saved_world is None else f' of a {saved_world}-process run'
            warnings.warn(
                f'RandomStateHook: the checkpoint{where} holds {len(states)} RNG state(s), '
                f'this run has {world} process(es); the RNG states are not restored and the '
                'resumed run will not repeat the interrupted one exactly')
            return
        _set_local_state(states[rank])
