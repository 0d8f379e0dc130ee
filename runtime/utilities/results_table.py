"""The table ``Trainer.validate`` / ``Trainer.test`` print: one column per dataloader, one row per metric.

Drawn as Lightning draws it (scripts and tests compare the text): with ``rich`` when it is installed,
as plain text otherwise. Nested result dicts show as ``outer:inner`` rows.
"""
import os
import shutil
import sys
from typing import Any

import torch

_SUFFIX = "/dataloader_idx_"


def _paths(results: dict, prefix: tuple = ()) -> list[tuple[str, ...]]:
    """The key path of every leaf of a (nested) result dict."""
    found = []
    for key, value in results.items():
        if isinstance(value, dict):
            found.extend(_paths(value, (*prefix, key)))
        else:
            found.append((*prefix, key))
    return found


def _lookup(results: dict, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(results, dict) or key not in results:
            return None
        results = results[key]
    return results


def _cell(value: Any) -> str:
    if value is None:
        return " "
    if isinstance(value, torch.Tensor):
        value = value.item() if value.numel() == 1 else value.tolist()
    return f"{value}"


def print_results_table(results: list[dict[str, Any]], stage: str, use_rich: bool) -> None:
    """Print ``results`` (one dict per dataloader) under the title ``"<Stage> metric"``; nothing when empty."""
    # each column names its dataloader, so the names drop their suffix
    results = [{k.split(_SUFFIX)[0]: v for k, v in r.items()} for r in results]
    by_name = {":".join(path): path for r in results for path in _paths(r)}
    if not by_name:
        return
    names = sorted(by_name)
    headers = [f"DataLoader {i}" for i in range(len(results))]
    term_width = shutil.get_terminal_size(fallback=(120, 30)).columns or 120
    width = int(min(max(len(max(names, key=len)), len(max(headers, key=len)), 25), term_width / 2))
    cells = [[_cell(_lookup(r, by_name[name])) for r in results] for name in names]
    per_table = int((term_width - width) / width)  # the metric column, then as many loaders as fit
    for start in range(0, len(headers), per_table):
        title = [f"{stage} Metric".capitalize(), *headers[start:start + per_table]]
        rows = [[name, *row[start:start + per_table]] for name, row in zip(names, cells)]
        if use_rich:
            _print_rich(title, rows, width)
        else:
            _print_plain(title, rows, width, term_width)


def _print_rich(title: list[str], rows: list[list[str]], width: int) -> None:
    from rich import get_console
    from rich.table import Column, Table

    columns = [Column(h, justify="center", style="cyan" if i == 0 else "magenta", width=width) for i, h in enumerate(title)]
    table = Table(*columns)
    for row in rows:
        table.add_row(*row)
    get_console().print(table)


def _print_plain(title: list[str], rows: list[list[str]], width: int, term_width: int) -> None:
    line = ("{:^" + str(width) + "}") * len(title)
    bar = _bar_character() * term_width
    half = int(term_width / 2)
    out = [bar, line.format(*title).rstrip(), bar]
    for name, *values in rows:
        # a name longer than half the terminal wraps onto more lines; the values go on its first
        out.append(line.format(name[:half], *values).rstrip())
        for start in range(half, len(name), half):
            out.append(line.format(name[start:start + half], *[" "] * len(values)).rstrip())
    out.append(bar)
    print(os.linesep.join(out))


def _bar_character() -> str:
    """A box-drawing line, or ``-`` where the output cannot encode it."""
    encoding = getattr(sys.stdout, "encoding", None)
    if encoding is not None:
        try:
            "─".encode(encoding)
        except (UnicodeEncodeError, LookupError):
            return "-"
    return "─"
