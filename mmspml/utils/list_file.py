"""List files (one sample a line, fields separated by spaces): the one reader of the package
and its tools, on top of ``mmengine.list_from_file``."""
import os.path as osp
from typing import List

import mmengine


def read_list_file(path: str, max_fields: int = 1, what: str = 'list file',
                   hint: str = '') -> List[List[str]]:
    """The non-empty lines of ``path``, split into fields.

    Args:
        path (str): the list file.
        max_fields (int): most fields a line may have (1: one name a line).
        what (str): how errors name the file (e.g. ``'split file'``).
        hint (str): appended to the error for a missing file (e.g. a docs pointer).

    Returns:
        list[list[str]]: one entry a non-empty line.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        ValueError: the file lists nothing, or a line has more than ``max_fields``
            fields (``path:line`` named).
    """
    if not path or not osp.isfile(path):
        raise FileNotFoundError(f'{what} {path!r} does not exist{hint}')
    rows = []
    for lineno, line in enumerate(mmengine.list_from_file(path), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) > max_fields:
            want = 'one name' if max_fields == 1 else f'at most {max_fields} fields'
            raise ValueError(f'{path}:{lineno}: expected {want} per line, got {len(fields)}: '
                             f'{line.strip()!r}')
        rows.append(fields)
    if not rows:
        raise ValueError(f'{what} {path!r} is empty; expected one sample per line')
    return rows
