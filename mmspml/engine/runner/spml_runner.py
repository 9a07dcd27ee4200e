# Copyright (c) OpenMMLab. All rights reserved.
# ``SPMLRunner.load_checkpoint`` follows mmengine 0.10.7's ``Runner.load_checkpoint``
# (Copyright OpenMMLab, Apache License 2.0, see LICENSE), with mmspml's loader.
"""The Runner of mmspml's configs (``runner_type = 'SPMLRunner'``)."""
import os
import os.path as osp
from typing import Callable, Optional, Union

from mmengine.config import Config
from mmengine.dist import master_only
from mmengine.fileio import LocalBackend, get_file_backend, join_path
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint_to_model
from mmseg.registry import RUNNERS

from mmspml.utils.checkpoint import (load_checkpoint_file, portable_message_hub,
                                     replace_when_complete, resume_checkpoint)


class _FormattedOnceConfig(Config):
    """A ``Config`` whose ``pretty_text`` is formatted once per content.

    mmengine formats the whole config with yapf (about 1 s for a model config on a CPU
    core) for the log, again for the config file written to the work dir, and again for
    the meta of every checkpoint. Here the text is kept with the content it was made
    from (``repr(to_dict())``, which takes milliseconds) and made again only when that
    changed, so every use gets exactly the text ``Config.pretty_text`` returns.
    """

    @property
    def pretty_text(self) -> str:
        key = (repr(self.to_dict()), self._format_python_code)
        cached = self.__dict__.get('_mmspml_pretty_text')
        if cached is None or cached[0] != key:
            cached = (key, Config.pretty_text.fget(self))
            object.__setattr__(self, '_mmspml_pretty_text', cached)  # not a config key
        return cached[1]

    @classmethod
    def of(cls, cfg: Config) -> 'Config':
        if isinstance(cfg, cls):
            return cfg
        other = cls.__new__(cls)
        other.__dict__.update(cfg.__dict__)
        return other


@RUNNERS.register_module()
class SPMLRunner(Runner):
    """mmengine's ``Runner`` with safe checkpoint files.

    Used by every config of mmspml (``runner_type = 'SPMLRunner'`` in
    ``configs/_base_/default_runtime.py``); ``import mmspml`` alone changes nothing in
    mmengine. Three differences from ``Runner``, all about checkpoints:

    * **Loading** (``load_from``, resume, ``tools/test.py``): local files are read with
      ``torch.load(weights_only=True)`` and an allow-list of the numpy/mmengine types that
      mmengine writes (:func:`~mmspml.utils.checkpoint.load_local_checkpoint`); other
      Python objects are refused unless ``MMSPML_TRUSTED_CHECKPOINTS=1``.
    * **Saving**: a local checkpoint is written to a hidden temporary file in the same
      directory and renamed once complete, so a crash while saving never leaves a
      truncated ``iter_N.pth``; the message hub's ``HistoryBuffer`` objects are written
      without their statistics functions, so the file loads with ``weights_only=True``.
    * **Resume** (``resume=True``, ``tools/train.py --resume``) always means the work
      dir: the checkpoint of ``work_dir/last_checkpoint``, or the newest readable
      ``iter_*.pth``/``epoch_*.pth`` when that one is unreadable. ``load_from`` is then
      only the starting point of a work dir that has no checkpoint yet (mmengine's
      ``Runner`` would instead resume *from* ``load_from``: for a stage-2 config, the
      stage-1 checkpoint's iteration and optimizer).

    It also formats the config text (yapf) once instead of once for the log, once for
    the work dir's copy and once per checkpoint: the same text, 1-2 s less per run.
    """

    def __init__(self, *args, cfg: Optional[Union[Config, dict]] = None, **kwargs):
        if isinstance(cfg, dict) and not isinstance(cfg, Config):
            cfg = Config(cfg)  # what Runner does with a dict
        if isinstance(cfg, Config):
            cfg = _FormattedOnceConfig.of(cfg)
        super().__init__(*args, cfg=cfg, **kwargs)

    def call_hook(self, fn_name: str, **kwargs) -> None:
        super().call_hook(fn_name, **kwargs)
        if fn_name == 'before_save_checkpoint':  # after every hook has added its part
            portable_message_hub(kwargs['checkpoint'])

    def load_or_resume(self) -> None:
        if self._has_loaded:
            return
        if self._resume:
            ckpt, note = resume_checkpoint(self.work_dir)
            if note:
                self.logger.warning(note)
            if ckpt is not None:
                self.resume(ckpt)
                self._has_loaded = True
                return
            self.logger.info(
                f'resume: no checkpoint in {self.work_dir} yet, training starts from '
                + (f'load_from={self._load_from}' if self._load_from else 'scratch'))
            # not a resume: hooks must not restore RNG/memory-bank state from load_from
            self._resume = False
        if self._load_from is not None:
            self.load_checkpoint(self._load_from)
            self._has_loaded = True

    def load_checkpoint(self, filename: str, map_location: Union[str, Callable] = 'cpu',
                        strict: bool = False, revise_keys: list = [(r'^module.', '')]):
        checkpoint = load_checkpoint_file(filename, map_location=map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) else self.model
        checkpoint = _load_checkpoint_to_model(model, checkpoint, strict,
                                               revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    @master_only
    def save_checkpoint(self, out_dir: str, filename: str,
                        file_client_args: Optional[dict] = None, save_optimizer: bool = True,
                        save_param_scheduler: bool = True, meta: Optional[dict] = None,
                        by_epoch: bool = True, backend_args: Optional[dict] = None):
        args = (file_client_args, save_optimizer, save_param_scheduler, meta, by_epoch,
                backend_args)
        if file_client_args is not None:
            return super().save_checkpoint(out_dir, filename, *args)
        path = join_path(out_dir, filename, backend_args=backend_args)
        if (str(path).startswith('pavi://') or
                not isinstance(get_file_backend(path, backend_args=backend_args),
                               LocalBackend)):
            return super().save_checkpoint(out_dir, filename, *args)
        head, tail = osp.split(filename)
        tmp_name = osp.join(head, f'.{tail}.{os.getpid()}.tmp')
        tmp = join_path(out_dir, tmp_name, backend_args=backend_args)
        try:
            super().save_checkpoint(out_dir, tmp_name, *args)
            replace_when_complete(tmp, path)
        except BaseException:
            if osp.exists(tmp):
                os.remove(tmp)
            raise


def build_runner(cfg) -> Runner:
    """The config's Runner: ``RUNNERS.build`` when it sets ``runner_type`` (mmspml's
    configs: :class:`SPMLRunner`), mmengine's ``Runner.from_cfg`` otherwise, as mmseg's
    ``tools/train.py`` does."""
    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    from mmengine.registry import init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    return RUNNERS.build(cfg)


def runner_class(cfg) -> type:
    """The class :func:`build_runner` builds for ``cfg``."""
    if 'runner_type' not in cfg:
        return Runner
    kind = cfg.runner_type
    if isinstance(kind, type):
        return kind
    from mmengine.registry import init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    found = RUNNERS.get(kind)
    if found is None:
        raise KeyError(f'runner_type={kind!r} is not registered (mmspml registers '
                       "'SPMLRunner'; is mmspml in custom_imports?)")
    return found
