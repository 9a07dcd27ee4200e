from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler
from mmseg.registry import PARAM_SCHEDULERS


@PARAM_SCHEDULERS.register_module()
class SPMLPolyLR(LRSchedulerMixin, _ParamScheduler):
    """The reference's poly schedule with linear warm-up, in closed form (§5.1, §9.5).

    For the 0-based step ``t`` and ``T = end - begin``::

        poly(t) = (1 - t / T) ** power
        factor  = min(warmup_ratio + (1 - warmup_ratio) * t / warmup_iters, poly(t))
                  if t < warmup_iters else poly(t)
        lr      = eta_min + (base_lr - eta_min) * factor   (per parameter group)

    MMEngine's ``LinearLR`` + ``PolyLR`` only approximate this (the poly part then decays
    over ``T - warmup`` steps); this scheduler reproduces ``lr_poly`` of the reference
    exactly, so every parameter group keeps its multiplier.

    Args:
        optimizer: wrapped optimizer.
        power (float): poly power (0.9).
        warmup_iters (int): warm-up steps (100; 0 = none).
        warmup_ratio (float): starting factor of the warm-up (0.1).
        eta_min (float): final learning rate. Default 0.
        begin, end (int): the steps the schedule covers; ``end`` must be finite.
        by_epoch (bool): default False (iteration based).
    """

    def __init__(self, optimizer, power: float = 0.9, warmup_iters: int = 100,
                 warmup_ratio: float = 0.1, eta_min: float = 0.0, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = False,
                 verbose: bool = False):
        if end == INF:
            raise ValueError('SPMLPolyLR: end (the total number of steps) must be given')
        if warmup_iters < 0 or not 0 < warmup_ratio <= 1:
            raise ValueError(f'SPMLPolyLR: warmup_iters={warmup_iters} must be >= 0 and '
                             f'warmup_ratio={warmup_ratio} in (0, 1]')
        self.power = power
        self.warmup_iters = int(warmup_iters)
        self.warmup_ratio = float(warmup_ratio)
        self.eta_min = eta_min
        self.total_iters = end - begin
        super().__init__(optimizer, begin=begin, end=end, last_step=last_step,
                         by_epoch=by_epoch, verbose=verbose)

    def factor(self, t: int) -> float:
        t = min(max(int(t), 0), self.total_iters)
        poly = (1.0 - t / self.total_iters) ** self.power
        if t < self.warmup_iters:
            return min(self.warmup_ratio + (1 - self.warmup_ratio) * t / self.warmup_iters,
                       poly)
        return poly

    def _get_value(self):
        f = self.factor(self.last_step)
        return [self.eta_min + (base - self.eta_min) * f for base in self.base_values]
