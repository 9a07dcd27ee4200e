from .spml_runner import SPMLRunner, build_runner, runner_class

__all__ = ['SPMLRunner', 'build_runner', 'runner_class']
